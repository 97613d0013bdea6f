%%% @doc EUnit tests of the erlmcp_memory_profiler drop-in: the seed's
%%% names and shapes, small real loads, thresholds from options and the
%%% application environment, the profiler process.
-module(erlmcp_memory_profiler_tests).

-include_lib("eunit/include/eunit.hrl").
-include("erlmcp_memory_profiler.hrl").

-define(M, erlmcp_memory_profiler).

snapshot_shape_test() ->
    S = ?M:measure_memory_snapshot(),
    ?assertMatch(#memory_snapshot{}, S),
    #memory_snapshot{rss_bytes = Rss, total_memory = Total, timestamp = Ts,
                     memory_per_connection = PerConn, gc_pause_max = Pause,
                     gc_pause_measured = Measured, decomposition = D} = S,
    ?assert(Rss > 0),
    ?assert(Total > 0),
    ?assert(Ts > 0),
    ?assert(is_float(PerConn)),
    %% not profiling: no GC pause figure is invented; the field stays an
    %% integer (the seed's `GcPauseMax > 100' is false, not `undefined > 100'
    %% which is true) and says it was not measured
    ?assertEqual(0, Pause),
    ?assertNot(Pause > 100),
    ?assertEqual(false, Measured),
    ?assertEqual([], [A || #{metric := gc_pause_ms} = A <- ?M:alerts(#{gc_pause_ms => undefined}, #{})]),
    ?assertNotEqual(nomatch, binary:match(?M:generate_report(), <<"longest pause not measured">>)),
    ?assertEqual(Rss, round(maps:get(rss_bytes, maps:get(per_node, maps:get(decomposition, D))))),
    ?assertNot(maps:is_key(snapshot, D)).

memory_per_connection_test_() ->
    {timeout, 60,
     fun() ->
             {Bytes, MB} = ?M:memory_per_connection(300),
             ?assert(is_float(Bytes) andalso is_float(MB)),
             %% a simulated connection holds ~10-40 KiB, nothing like the node / count
             ?assert(Bytes > 4096 andalso Bytes < 200000),
             ?assert(abs(MB * 1048576 - Bytes) < 1.0e-6),
             %% the connections are stopped afterwards
             ?assertEqual([], [P || P <- processes(),
                                    {dictionary, Dict} <- [process_info(P, dictionary)],
                                    {'$initial_call', {memacct_sim, _, _}} <- Dict])
     end}.

simulate_load_test_() ->
    {timeout, 120,
     fun() ->
             Before = length(processes()),
             R = ?M:simulate_100k_load(2000),
             [?assert(maps:is_key(K, R))
              || K <- [success, final_memory_per_connection_mb, target_connections, connections,
                       batches, batch_size, initial_memory_mb, final_memory_mb, memory_growth_mb,
                       target_memory_per_connection_mb, results, valid, violations, alerts,
                       duration_ms]],
             ?assertMatch(#{target_connections := 2000, connections := 2000, batches := 10,
                            batch_size := 200}, R),
             Results = maps:get(results, R),
             ?assertEqual(lists:seq(200, 2000, 200), [maps:get(connections, X) || X <- Results]),
             Final = maps:get(final_memory_per_connection_mb, R),
             ?assert(is_float(Final) andalso Final > 0.0 andalso Final < 0.5),
             %% target 2 MB: met honestly (tens of KiB per simulated connection)
             ?assertEqual(true, maps:get(success, R)),
             %% a target below the measured figure fails
             R2 = ?M:simulate_100k_load(100, #{batches => 2,
                                               thresholds => #{target_mb_per_connection => 0.001,
                                                               per_connection_mb => {0.0005, 0.002}}}),
             ?assertMatch(#{success := false, batches := 2, batch_size := 50}, R2),
             ?assertMatch([#{metric := per_connection_mb, level := critical}], maps:get(alerts, R2)),
             %% every simulated connection is gone
             timer:sleep(50),
             ?assert(length(processes()) =< Before + 5)
     end}.

thresholds_test() ->
    Th = ?M:thresholds(#{}),
    ?assertEqual({2.5, 3.0}, maps:get(per_connection_mb, Th)),
    ?assertEqual({70, 50}, maps:get(pool_reuse_ratio_pct, Th)),
    ?assertEqual({80, 150}, maps:get(gc_pause_ms, Th)),
    ?assertEqual({5, 10}, maps:get(growth_mb_per_hour, Th)),
    ?assertEqual([], ?M:alerts(#{per_connection_mb => 2.0, gc_pause_ms => 10,
                                 pool_reuse_ratio_pct => 90, growth_mb_per_hour => 1}, #{})),
    ?assertEqual([#{metric => gc_pause_ms, level => warning, value => 100, threshold => 80},
                  #{metric => per_connection_mb, level => critical, value => 3.5, threshold => 3.0},
                  #{metric => pool_reuse_ratio_pct, level => critical, value => 40, threshold => 50}],
                 ?M:alerts(#{per_connection_mb => 3.5, gc_pause_ms => 100,
                             pool_reuse_ratio_pct => 40, growth_mb_per_hour => undefined}, #{})),
    %% options override
    ?assertMatch([#{level := critical}],
                 ?M:alerts(#{gc_pause_ms => 60}, #{thresholds => #{gc_pause_ms => {20, 50}}})),
    %% the application environment overrides the defaults, options override it
    ok = application:set_env(memacct, erlmcp_memory_profiler,
                             #{thresholds => #{gc_pause_ms => {20, 50}}}),
    try
        ?assertMatch([#{level := warning, threshold := 20}], ?M:alerts(#{gc_pause_ms => 30}, #{})),
        ?assertEqual([], ?M:alerts(#{gc_pause_ms => 30}, #{thresholds => #{gc_pause_ms => {40, 50}}}))
    after
        application:unset_env(memacct, erlmcp_memory_profiler)
    end.

trend_test_() ->
    {timeout, 60,
     fun() ->
             ?assertMatch({error, {too_few_snapshots, 1}},
                          ?M:analyze_memory_trend([?M:measure_memory_snapshot()])),
             Pids = memacct_sim:start_connections(50),
             try
                 Snaps = [begin timer:sleep(5), ?M:measure_memory_snapshot(#{connection_pids => Pids}) end
                          || _ <- lists:seq(1, 3)],
                 T = ?M:analyze_memory_trend(Snaps),
                 ?assertMatch(#{samples := 3, leak_suspected := false, alerts := _,
                                rss_growth_mb_per_hour := _,
                                per_connection_growth_mb_per_hour := _}, T),
                 %% too few points over too short a span: never a leak verdict
                 ?assert(is_list(maps:get(reasons, T)))
             after
                 memacct_sim:stop_connections(Pids)
             end
     end}.

profiling_test_() ->
    {timeout, 60,
     fun() ->
             ?assertEqual({error, not_profiling}, ?M:get_profiling_data()),
             ?assertEqual({error, not_profiling}, ?M:stop_profiling()),
             MonitorFree = erlang:system_monitor() =:= undefined,
             ok = ?M:start_profiling(#{interval_ms => 20}),
             ?assertEqual({error, already_profiling}, ?M:start_profiling()),
             timer:sleep(150),
             Snap = ?M:measure_memory_snapshot(),
             Report = ?M:generate_report(),
             ?assert(is_binary(Report)),
             ?assertNotEqual(nomatch, binary:match(Report, <<"Total RSS (OS view)">>)),
             ?assertNotEqual(nomatch, binary:match(Report, <<"Trend over">>)),
             Data = ?M:stop_profiling(),
             #{snapshots := Snaps, interval_ms := 20, trend := Trend, aggregate := Agg} = Data,
             ?assert(length(Snaps) >= 3),
             ?assertMatch(#{samples := _}, Trend),
             ?assertMatch(#{count := _}, Agg),
             case erlang:system_monitor() of
                 undefined ->
                     ok;
                 _ ->
                     ?assert(false)
             end,
             %% the GC pause figure is an integer while profiling, measured
             %% exactly when the profiler got the (free) system monitor
             ?assert(is_integer(Snap#memory_snapshot.gc_pause_max)),
             ?assertEqual(MonitorFree, Snap#memory_snapshot.gc_pause_measured),
             ?assertEqual(MonitorFree, maps:get(gc_pause_measured, Data)),
             ?assert(is_integer(maps:get(gc_pause_max, Data))),
             ?assertEqual({error, not_profiling}, ?M:get_profiling_data())
     end}.

%% The history is bounded: with `max_snapshots => 3' at most the last 3
%% snapshots are kept (oldest first), the others counted as dropped.
bounded_history_test_() ->
    {timeout, 60,
     fun() ->
             ?assertError(badarg, ?M:start_profiling(#{max_snapshots => 0})),
             ?assertError(badarg, ?M:start_profiling(#{interval_ms => -1})),
             ok = ?M:start_profiling(#{interval_ms => 10, max_snapshots => 3}),
             timer:sleep(300),
             Data = ?M:stop_profiling(),
             #{snapshots := Snaps, snapshots_dropped := Dropped, max_snapshots := 3} = Data,
             ?assertEqual(3, length(Snaps)),
             ?assert(Dropped >= 3),
             Ts = [T || #memory_snapshot{timestamp = T} <- Snaps],
             ?assertEqual(lists:sort(Ts), Ts)
     end}.

default_history_bound_test() ->
    ok = ?M:start_profiling(#{interval_ms => 60000}),
    Data = ?M:stop_profiling(),
    ?assertMatch(#{max_snapshots := 1000, snapshots_dropped := 0}, Data).

report_without_profiling_test() ->
    R = ?M:generate_report(),
    ?assertNotEqual(nomatch, binary:match(R, <<"not profiling">>)),
    ?assertNotEqual(nomatch, binary:match(R, <<"Alerts">>)).
