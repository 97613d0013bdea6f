%%% @doc EUnit tests of the erlmcp_memory_profiler drop-in: erlmcp's
%%% record, keys, value types and error atoms (as in erlmcp's
%%% src/erlmcp_memory_profiler.erl), what memacct adds, small real loads,
%%% thresholds from options and the application environment, the profiler
%%% process, and connections that never outlive their owner.
-module(erlmcp_memory_profiler_tests).

-include_lib("eunit/include/eunit.hrl").
-include("erlmcp_memory_profiler.hrl").

-export([limited_node_probe/1]).

-define(M, erlmcp_memory_profiler).

%% erlmcp's `#memory_snapshot{}' fields, in erlmcp's order.
-define(ERLMCP_FIELDS, [timestamp, process_count, total_memory, process_memory, binary_memory,
                        ets_memory, atom_memory, gc_collections, gc_reclaimed, gc_pause_max]).
%% erlmcp's snapshot map keys (its snapshot_to_map/1).
-define(ERLMCP_SNAPSHOT_KEYS, [timestamp, process_count, total_memory, total_memory_mb,
                               process_memory, binary_memory, ets_memory, atom_memory,
                               gc_collections, gc_reclaimed]).

%% The profiler as if never started (its process ends only when stopped
%% this way: stop_profiling/0 keeps the data readable, as erlmcp's did).
reset() ->
    case whereis(?M) of
        undefined -> ok;
        _ -> catch gen_server:stop(?M)
    end,
    ok.

sim_processes() ->
    [P || P <- processes(),
          {dictionary, Dict} <- [process_info(P, dictionary)],
          {'$initial_call', {memacct_sim, _, _}} <- Dict].

%% Waits up to `Ms' for `Pred()'.
wait_until(Pred, Ms) when Ms =< 0 ->
    Pred();
wait_until(Pred, Ms) ->
    case Pred() of
        true -> true;
        false -> timer:sleep(10), wait_until(Pred, Ms - 10)
    end.

is_snapshot_map(S) ->
    is_map(S) andalso [] =:= [K || K <- ?ERLMCP_SNAPSHOT_KEYS, not is_integer(maps:get(K, S, x))].

%%% ---------------------------------------------------------------------------
%%% Finding 7: erlmcp's record

record_arity_and_fields_test() ->
    S = ?M:measure_memory_snapshot(),
    ?assertEqual(11, tuple_size(S)),
    ?assertEqual(memory_snapshot, element(1, S)),
    ?assertEqual(?ERLMCP_FIELDS, record_info(fields, memory_snapshot)),
    %% every field an integer, at erlmcp's position
    ?assert(lists:all(fun is_integer/1, tl(tuple_to_list(S)))),
    Now = erlang:system_time(millisecond),
    ?assert(abs(element(2, S) - Now) < 5000),                             % timestamp, ms
    ?assert(abs(element(3, S) - erlang:system_info(process_count)) < 50), % process_count
    ?assert(abs(element(4, S) - erlang:memory(total)) < 16 * 1048576),    % total_memory
    ?assertEqual(erlang:memory(atom), element(8, S)),                     % atom_memory
    {GcNow, WordsNow, _} = erlang:statistics(garbage_collection),
    ?assert(element(9, S) =< GcNow),                                      % gc_collections
    ?assertEqual(0, element(10, S) rem erlang:system_info(wordsize)),     % gc_reclaimed, bytes
    ?assert(element(10, S) =< WordsNow * erlang:system_info(wordsize)),
    ?assertEqual(0, element(11, S)),                                      % gc_pause_max: not profiling
    %% the seed's use of erlmcp's record
    ?assertNot(S#memory_snapshot.gc_pause_max > 100),
    ?assertEqual(element(4, S), S#memory_snapshot.total_memory).

detail_map_test() ->
    ok = reset(),
    D = ?M:measure_memory_detail(),
    ?assert(is_snapshot_map(D)),
    #{rss_bytes := Rss, rss_mb := RssMb, total_memory := Total, total_memory_mb := TotalMb,
      memory_per_connection := PerConn, gc_pause_max := Pause, gc_pause_measured := Measured,
      gc_words_reclaimed := Words, gc_reclaimed := Bytes, node := Node, valid := _,
      residual_bytes := Residual, connections := 0, decomposition := Dec} = D,
    ?assert(Rss > 0 andalso is_integer(Rss)),
    ?assert(abs(RssMb * 1048576 - Rss) < 1.0),
    ?assertEqual(Total div 1048576, TotalMb),
    ?assertEqual(Words * erlang:system_info(wordsize), Bytes),
    ?assertEqual(node(), Node),
    ?assert(is_float(PerConn) andalso is_float(Residual)),
    %% not profiling: no GC pause figure is invented
    ?assertEqual(0, Pause),
    ?assertEqual(false, Measured),
    ?assertEqual([], [A || #{metric := gc_pause_ms} = A <- ?M:alerts(#{gc_pause_ms => undefined}, #{})]),
    ?assertEqual(Rss, round(maps:get(rss_bytes, maps:get(per_node, maps:get(decomposition, Dec))))),
    ?assertNot(maps:is_key(snapshot, Dec)).

%%% ---------------------------------------------------------------------------
%%% Finding 8: erlmcp's exports

exports_test() ->
    {module, ?M} = code:ensure_loaded(?M),
    Erlmcp = [{start_profiling, 0}, {stop_profiling, 0}, {create_test_connections, 2},
              {create_test_connections, 3}, {measure_memory_snapshot, 0},
              {measure_memory_after_delay, 1}, {get_profiling_data, 0},
              {analyze_memory_trend, 1}, {generate_report, 0}, {memory_per_connection, 1},
              {simulate_100k_load, 1}],
    ?assertEqual([], [FA || {F, A} = FA <- Erlmcp, not erlang:function_exported(?M, F, A)]).

measure_memory_after_delay_test() ->
    {Delta, 20} = ?M:measure_memory_after_delay(20),
    ?assert(is_integer(Delta)).

create_test_connections_test_() ->
    {timeout, 30,
     fun() ->
             Self = self(),
             {ok, Pids} = ?M:create_test_connections(20, Self),
             ?assertEqual(20, length(Pids)),
             ?assert(lists:all(fun is_process_alive/1, Pids)),
             %% real connection processes: memacct can measure them
             {ok, D} = memacct:decompose(#{connection_pids => Pids}),
             ?assertEqual(20, maps:get(alive, maps:get(counts, maps:get(decomposition, D)))),
             %% not linked to the caller (a connection's crash does not kill it)
             {links, Links} = process_info(self(), links),
             ?assertEqual([], [P || P <- Pids, lists:member(P, Links)]),
             memacct_sim:stop_connections(Pids),
             {ok, Two} = ?M:create_test_connections(2, Self, #{}),
             ?assertEqual(2, length(Two)),
             memacct_sim:stop_connections(Two),
             %% they end with their owner, even on a normal exit ...
             Owner = spawn(fun() ->
                                   {ok, Ps} = ?M:create_test_connections(5, undefined),
                                   Self ! {pids, Ps}
                           end),
             Ps = receive {pids, X} -> X after 10000 -> error(timeout) end,
             ?assert(wait_until(fun() -> not is_process_alive(Owner) end, 2000)),
             ?assert(wait_until(fun() -> not lists:any(fun is_process_alive/1, Ps) end, 3000)),
             %% ... or when their lifetime is over
             {ok, Short} = ?M:create_test_connections(3, Self, #{lifetime_ms => 50}),
             ?assert(wait_until(fun() -> not lists:any(fun is_process_alive/1, Short) end, 3000)),
             ?assertError(function_clause, ?M:create_test_connections(0, Self)),
             ?assertError(badarg, ?M:create_test_connections(1, Self, #{lifetime_ms => -1}))
     end}.

%%% ---------------------------------------------------------------------------
%%% Findings 1, 2, 3: profiling

never_started_test() ->
    ok = reset(),
    ?assertEqual({error, no_profiling_data}, ?M:get_profiling_data()),
    ?assertEqual({error, profiling_not_started}, ?M:stop_profiling()),
    ?assertEqual({error, no_profiling_data}, ?M:generate_report()).

start_is_idempotent_test_() ->
    {timeout, 30,
     fun() ->
             ok = reset(),
             ?assertEqual(ok, ?M:start_profiling(#{interval_ms => 10})),
             timer:sleep(100),
             #{snapshot_count := N1, baseline := #{timestamp := B1}} = ?M:get_profiling_data(),
             ?assert(N1 >= 3),
             %% erlmcp: a second start returns ok and starts over
             ?assertEqual(ok, ?M:start_profiling(#{interval_ms => 60000})),
             #{snapshot_count := N2, baseline := #{timestamp := B2}, interval_ms := 60000,
               snapshots := [Only]} = ?M:get_profiling_data(),
             ?assertEqual(1, N2),
             ?assert(B2 > B1),
             ?assertEqual(B2, maps:get(timestamp, Only)),
             %% a stopped profiler starts over too
             #{} = ?M:stop_profiling(),
             ?assertEqual(ok, ?M:start_profiling()),
             ?assertMatch(#{running := true, snapshot_count := 1}, ?M:get_profiling_data()),
             ok = reset()
     end}.

get_profiling_data_shape_test_() ->
    {timeout, 30,
     fun() ->
             ok = reset(),
             ok = ?M:start_profiling(#{interval_ms => 20}),
             timer:sleep(120),
             D = ?M:get_profiling_data(),
             %% erlmcp's keys and types
             #{baseline := Base, snapshots := Snaps, snapshot_count := Count,
               duration_ms := Duration} = D,
             ?assert(is_snapshot_map(Base)),
             ?assert(is_list(Snaps) andalso lists:all(fun is_snapshot_map/1, Snaps)),
             ?assertEqual(length(Snaps), Count),
             ?assertEqual(Base, hd(Snaps)),
             ?assert(is_integer(Duration) andalso Duration >= 100),
             Ts = [maps:get(timestamp, S) || S <- Snaps],
             ?assertEqual(lists:sort(Ts), Ts),
             %% memacct's
             ?assertMatch(#{running := true, stopped_at := undefined, interval_ms := 20,
                            max_snapshots := 1000, snapshots_dropped := 0,
                            trend := #{samples := _, leak_indication := _}, aggregate := #{count := _}},
                          D),
             ?assert(is_float(maps:get(avg_gc_pause, D))),
             ok = reset()
     end}.

stop_profiling_shape_test_() ->
    {timeout, 30,
     fun() ->
             ok = reset(),
             MonitorFree = erlang:system_monitor() =:= undefined,
             ok = ?M:start_profiling(#{interval_ms => 20}),
             timer:sleep(100),
             Snap = ?M:measure_memory_snapshot(),
             R = ?M:stop_profiling(),
             %% erlmcp's keys, with erlmcp's types
             #{baseline := Base, final := Final, snapshots := N, total_memory_delta := TDelta,
               process_count_delta := PDelta, avg_gc_pause := Avg} = R,
             ?assert(is_snapshot_map(Base) andalso is_snapshot_map(Final)),
             ?assert(is_integer(N) andalso N >= 3),
             ?assertEqual(maps:get(total_memory, Final) - maps:get(total_memory, Base), TDelta),
             ?assertEqual(maps:get(process_count, Final) - maps:get(process_count, Base), PDelta),
             ?assert(is_float(Avg)),
             %% memacct's: the list under another key, the final snapshot last
             #{snapshot_list := List, running := false, stopped_at := Stopped} = R,
             ?assertEqual(N, length(List)),
             ?assertEqual(Final, lists:last(List)),
             ?assert(is_integer(Stopped)),
             %% GC pauses measured exactly when the profiler got the (free) system monitor
             ?assert(is_integer(Snap#memory_snapshot.gc_pause_max)),
             ?assertEqual(MonitorFree, maps:get(gc_pause_measured, R)),
             ?assert(is_integer(maps:get(gc_pause_max, R))),
             %% the system monitor is given back
             MonitorFree andalso ?assertEqual(undefined, erlang:system_monitor()),
             %% erlmcp: stopping again returns the report again; the data stays readable
             ?assertEqual(R, ?M:stop_profiling()),
             ?assertMatch(#{snapshots := [_, _, _ | _], snapshot_count := N, running := false},
                          ?M:get_profiling_data()),
             %% not profiling any more: no pause measured
             ?assertEqual(0, (?M:measure_memory_snapshot())#memory_snapshot.gc_pause_max),
             ok = reset()
     end}.

generate_report_test_() ->
    {timeout, 30,
     fun() ->
             ok = reset(),
             ok = ?M:start_profiling(#{interval_ms => 20}),
             timer:sleep(100),
             {ok, Report} = ?M:generate_report(),
             ?assert(is_list(Report) andalso io_lib:printable_unicode_list(Report)),
             [?assertNotEqual(nomatch, string:find(Report, S))
              || S <- ["Memory Profiling Report", "Baseline Memory: ", "Snapshots Collected: ",
                       "Duration: ", "Total RSS (OS view)", "Trend over", "Alerts"]],
             %% a few seconds of data never yield growth alerts
             ?assertEqual(nomatch, string:find(Report, "growth_mb_per_hour")),
             _ = ?M:stop_profiling(),
             {ok, Stopped} = ?M:generate_report(#{}),
             ?assertNotEqual(nomatch, string:find(Stopped, "stopped")),
             ok = reset()
     end}.

%% The history is bounded: with `max_snapshots => 3' at most the last 3
%% snapshots are kept (oldest first), the others counted as dropped.
bounded_history_test_() ->
    {timeout, 60,
     fun() ->
             ok = reset(),
             ?assertError(badarg, ?M:start_profiling(#{max_snapshots => 0})),
             ?assertError(badarg, ?M:start_profiling(#{interval_ms => -1})),
             ok = ?M:start_profiling(#{interval_ms => 10, max_snapshots => 3}),
             timer:sleep(300),
             Data = ?M:stop_profiling(),
             #{snapshot_list := Snaps, snapshots := 3, snapshots_dropped := Dropped,
               max_snapshots := 3, baseline := Base} = Data,
             ?assertEqual(3, length(Snaps)),
             ?assert(Dropped >= 3),
             Ts = [T || #{timestamp := T} <- Snaps],
             ?assertEqual(lists:sort(Ts), Ts),
             %% the baseline is kept apart
             ?assert(maps:get(timestamp, Base) < hd(Ts)),
             ok = reset()
     end}.

default_history_bound_test() ->
    ok = reset(),
    ok = ?M:start_profiling(#{interval_ms => 60000}),
    Data = ?M:stop_profiling(),
    ?assertMatch(#{max_snapshots := 1000, snapshots_dropped := 0, snapshots := 2}, Data),
    ok = reset().

%%% ---------------------------------------------------------------------------
%%% Finding 4: analyze_memory_trend/1

%% A bad option is badarg in the caller: it neither starts a profiler that
%% crashes later nor kills a running one (and its history) on restart.
bad_options_test_() ->
    {timeout, 60,
     fun() ->
             ok = ?M:start_profiling(#{interval_ms => 60000}),
             Pid = whereis(erlmcp_memory_profiler),
             try
                 [?assertError(badarg, ?M:start_profiling(O))
                  || O <- [#{trend => #{min_points => -1}}, #{connection_pids => [foo]},
                           #{trend => not_a_map}]],
                 ?assertEqual(Pid, whereis(erlmcp_memory_profiler)),
                 ?assertMatch(#{snapshot_count := _}, ?M:get_profiling_data())
             after
                 gen_server:stop(erlmcp_memory_profiler)
             end,
             ?assertError(badarg, ?M:start_profiling(#{trend => #{min_points => -1}})),
             ?assertEqual(undefined, whereis(erlmcp_memory_profiler))
     end}.

%% A baseline that fails for a reason other than the options is not badarg:
%% the caller gets the reason, a running profiler goes on as it was.
failed_baseline_is_not_badarg_test_() ->
    {timeout, 60,
     fun() ->
             Boom = #{connection_pids => {erlang, error, [boom]}},
             ?assertError({profiling_failed, boom}, ?M:start_profiling(Boom)),
             ?assertEqual(undefined, whereis(erlmcp_memory_profiler)),
             ok = ?M:start_profiling(#{interval_ms => 60000}),
             Pid = whereis(erlmcp_memory_profiler),
             try
                 ?assertError({profiling_failed, boom}, ?M:start_profiling(Boom)),
                 ?assertEqual(Pid, whereis(erlmcp_memory_profiler)),
                 ?assertMatch(#{snapshot_count := _}, ?M:get_profiling_data())
             after
                 gen_server:stop(erlmcp_memory_profiler)
             end
     end}.

trend_errors_test() ->
    ?assertEqual({error, no_data}, ?M:analyze_memory_trend([])),
    ?assertEqual({error, need_multiple_snapshots},
                 ?M:analyze_memory_trend([#{timestamp => 1, total_memory => 1}])),
    ?assertEqual({error, need_multiple_snapshots},
                 ?M:analyze_memory_trend([?M:measure_memory_snapshot()])),
    ?assertEqual({error, invalid_input}, ?M:analyze_memory_trend(foo)),
    ?assertEqual({error, invalid_input}, ?M:analyze_memory_trend(#{})),
    ?assertEqual({error, invalid_input}, ?M:analyze_memory_trend([a, b])),
    ?assertEqual({error, invalid_input},
                 ?M:analyze_memory_trend([#{timestamp => 1, total_memory => 1} | x])),
    ?assertEqual({error, invalid_input},
                 ?M:analyze_memory_trend([#{timestamp => 1}, #{timestamp => 2}])),
    %% memory beyond 64 bits is not a figure (the NIF refused it: badarg)
    ?assertEqual({error, invalid_input},
                 ?M:analyze_memory_trend([#{timestamp => 1, total_memory => 1 bsl 64},
                                          #{timestamp => 2, total_memory => 2}])),
    %% timestamps are integer milliseconds
    ?assertEqual({error, invalid_input},
                 ?M:analyze_memory_trend([#{timestamp => 1.5, total_memory => 1},
                                          #{timestamp => 2.5, total_memory => 2}])).

trend_on_erlmcp_maps_test() ->
    %% erlmcp-style maps: 100 bytes more every second
    Snaps = [#{timestamp => 1000 * I, total_memory => 1000 + 100 * I} || I <- [0, 1, 2, 3]],
    T = ?M:analyze_memory_trend(Snaps),
    ?assertMatch(#{min_memory := 1000, max_memory := 1300, avg_memory := 1150,
                   memory_delta := 300, avg_growth_per_snapshot := 100,
                   leak_indication := <<"normal">>, samples := 4, leak_suspected := false,
                   enough_data := false,
                   reasons := [], alerts := []}, T),
    ?assert(abs(maps:get(trend_slope, T) - 100.0) < 1.0e-6),
    ?assert(is_float(maps:get(trend_slope, T))),
    ?assertMatch(#{r_squared := R2} when R2 > 0.999, maps:get(total_memory_fit, T)),
    %% same answer from erlmcp's records
    Recs = [#memory_snapshot{timestamp = Ts, total_memory = M} || #{timestamp := Ts, total_memory := M} <- Snaps],
    ?assertEqual(T, ?M:analyze_memory_trend(Recs)),
    %% equal timestamps: no slope rather than a division by zero
    ?assertMatch(#{trend_slope := 0.0, total_memory_fit := undefined},
                 ?M:analyze_memory_trend([#{timestamp => 5, total_memory => 1},
                                          #{timestamp => 5, total_memory => 2}])),
    %% sustained growth (2 %/h of the mean, 7 snapshots over an hour): a leak
    Leak = [#{timestamp => 600000 * I, total_memory => 100000000 + 2000000 * I div 6}
            || I <- lists:seq(0, 6)],
    L = ?M:analyze_memory_trend(Leak),
    ?assertMatch(#{leak_indication := <<"possible_memory_leak">>, leak_suspected := true,
                   enough_data := true,
                   reasons := [<<"total_memory grows", _/binary>>]}, L),
    %% flat memory over the same hour: normal
    Flat = [S#{total_memory => 100000000} || S <- Leak],
    ?assertMatch(#{leak_indication := <<"normal">>, memory_delta := 0, trend_slope := 0.0},
                 ?M:analyze_memory_trend(Flat)).

trend_on_snapshot_maps_test_() ->
    {timeout, 60,
     fun() ->
             Pids = memacct_sim:start_connections(50),
             try
                 Snaps = [begin timer:sleep(5), ?M:measure_memory_detail(#{connection_pids => Pids}) end
                          || _ <- lists:seq(1, 3)],
                 T = ?M:analyze_memory_trend(Snaps),
                 ?assertMatch(#{samples := 3, leak_suspected := false, leak_indication := <<"normal">>,
                                alerts := [], trend := #{points := 3},
                                min_memory := _, max_memory := _, avg_memory := _, memory_delta := _,
                                avg_growth_per_snapshot := _, trend_slope := _}, T),
                 ?assert(is_float(maps:get(rss_growth_mb_per_hour, T))),
                 ?assert(is_float(maps:get(per_connection_growth_mb_per_hour, T))),
                 [?assert(is_integer(maps:get(K, T)))
                  || K <- [min_memory, max_memory, avg_memory, memory_delta, avg_growth_per_snapshot]],
                 %% records and maps mixed: the total_memory series only
                 Mixed = ?M:analyze_memory_trend([?M:measure_memory_snapshot() | Snaps]),
                 ?assertMatch(#{samples := 4}, Mixed),
                 ?assertNot(maps:is_key(rss_growth_mb_per_hour, Mixed))
             after
                 memacct_sim:stop_connections(Pids)
             end
     end}.

%%% ---------------------------------------------------------------------------
%%% Finding 6: memory_per_connection/1

memory_per_connection_test_() ->
    {timeout, 60,
     fun() ->
             {Bytes, MB} = ?M:memory_per_connection(300),
             ?assert(is_integer(Bytes)),
             ?assert(is_float(MB)),
             %% a simulated connection holds ~10-40 KiB, nothing like the node / count
             ?assert(Bytes > 4096 andalso Bytes < 200000),
             ?assert(abs(MB * 1048576 - Bytes) =< 0.5),
             %% the connections are stopped afterwards
             ?assertEqual([], sim_processes())
     end}.

%%% ---------------------------------------------------------------------------
%%% Finding 5: simulate_100k_load/1

simulate_load_test_() ->
    {timeout, 120,
     fun() ->
             ok = reset(),
             R = ?M:simulate_100k_load(2000),
             %% erlmcp's keys and types
             #{target_connections := 2000, batches_completed := 10,
               final_process_count := Procs, final_total_memory_mb := FinalTotalMb,
               final_memory_per_connection := PerConn, final_memory_per_connection_mb := Final,
               baseline_memory_mb := BaseMb, memory_delta_mb := DeltaMb,
               batch_results := Batches, success := Success} = R,
             [?assert(is_integer(V)) || V <- [Procs, FinalTotalMb, PerConn, BaseMb, DeltaMb]],
             ?assert(Procs >= 2000),
             ?assert(is_float(Final) andalso Final > 0.0 andalso Final < 0.5),
             ?assert(abs(Final * 1048576 - PerConn) =< 0.5),
             ?assertEqual(lists:seq(1, 10), [maps:get(batch, B) || B <- Batches]),
             ?assertEqual(lists:seq(200, 2000, 200), [maps:get(connection_count, B) || B <- Batches]),
             [begin
                  #{memory_per_connection := BPer, memory_per_connection_mb := BPerMb,
                    total_memory_mb := BTot, process_count := BProcs, timestamp := BTs} = B,
                  ?assert(is_integer(BPer) andalso is_float(BPerMb) andalso is_integer(BTot)
                          andalso is_integer(BProcs) andalso is_integer(BTs))
              end || B <- Batches],
             %% target 2 MB: met honestly (tens of KiB per simulated connection)
             ?assertEqual(true, Success),
             %% memacct's keys
             ?assertMatch(#{connections := 2000, batches := 10, batch_size := 200,
                            initial_memory_mb := _, final_memory_mb := _, memory_growth_mb := _,
                            target_memory_per_connection_mb := 2.0, results := Batches,
                            valid := _, violations := _, alerts := [], duration_ms := _}, R),
             %% erlmcp's starts the profiler: its data is readable afterwards
             ?assertMatch(#{running := true, snapshot_count := _}, ?M:get_profiling_data()),
             ?assertMatch(#{snapshots := _}, ?M:stop_profiling()),
             %% every simulated connection is gone
             ?assertEqual([], sim_processes()),
             %% a target below the measured figure fails
             R2 = ?M:simulate_100k_load(100, #{batches => 2,
                                               thresholds => #{target_mb_per_connection => 0.001,
                                                               per_connection_mb => {0.0005, 0.002}}}),
             ?assertMatch(#{success := false, batches := 2, batches_completed := 2, batch_size := 50}, R2),
             ?assertMatch([#{metric := per_connection_mb, level := critical}], maps:get(alerts, R2)),
             ?assertEqual([], sim_processes()),
             ok = reset()
     end}.

%%% ---------------------------------------------------------------------------
%%% Finding 9: connections never outlive the call

killed_caller_leaves_no_connection_test_() ->
    {timeout, 60,
     fun() ->
             ok = reset(),
             ok = ?M:start_profiling(#{interval_ms => 60000}),
             ?assertEqual([], sim_processes()),
             Base = erlang:system_info(process_count),
             Caller = spawn(fun() -> ?M:simulate_100k_load(4000, #{batches => 40}) end),
             ?assert(wait_until(fun() -> length(sim_processes()) >= 400 end, 20000)),
             exit(Caller, kill),
             ?assert(wait_until(fun() -> sim_processes() =:= [] end, 5000)),
             ?assert(wait_until(fun() -> erlang:system_info(process_count) =< Base end, 5000)),
             %% the same for memory_per_connection/1
             Caller2 = spawn(fun() -> ?M:memory_per_connection(20000) end),
             ?assert(wait_until(fun() -> length(sim_processes()) >= 200 end, 20000)),
             exit(Caller2, kill),
             ?assert(wait_until(fun() -> sim_processes() =:= [] end, 5000)),
             ?assert(wait_until(fun() -> erlang:system_info(process_count) =< Base end, 5000)),
             ok = reset()
     end}.

%% In a node limited to 1024 processes, starting 2000 connections fails
%% with system_limit and leaves none of them behind.
failed_start_leaves_no_connection_test_() ->
    {timeout, 60,
     fun() ->
             Dirs = lists:usort([filename:dirname(code:which(M)) || M <- [?M, ?MODULE]]),
             {ok, Peer, _} = peer:start_link(#{connection => standard_io,
                                               args => ["+P", "1024", "-kernel", "logger_level", "emergency"
                                                        | lists:append([["-pa", D] || D <- Dirs])]}),
             try
                 {Limit, Before, Mpc, AfterMpc, Create, AfterCreate, Sim, AfterSim} =
                     peer:call(Peer, ?MODULE, limited_node_probe, [2000], 30000),
                 ?assertEqual(1024, Limit),
                 ?assertMatch({'EXIT', {system_limit, _}}, Mpc),
                 ?assertEqual(Before, AfterMpc),
                 ?assertEqual({error, system_limit}, Create),
                 ?assertEqual(Before, AfterCreate),
                 ?assertMatch({'EXIT', {system_limit, _}}, Sim),
                 %% + the profiler simulate_100k_load/1 started
                 ?assertEqual(Before + 1, AfterSim)
             after
                 peer:stop(Peer)
             end
     end}.

%% Run in the limited peer node.
limited_node_probe(N) ->
    Count = fun() -> erlang:system_info(process_count) end,
    Before = Count(),
    Mpc = (catch ?M:memory_per_connection(N)),
    AfterMpc = Count(),
    Create = ?M:create_test_connections(N, self()),
    AfterCreate = Count(),
    Sim = (catch ?M:simulate_100k_load(N, #{batches => 1})),
    AfterSim = Count(),
    {erlang:system_info(process_limit), Before, Mpc, AfterMpc, Create, AfterCreate, Sim, AfterSim}.

%%% ---------------------------------------------------------------------------
%%% Thresholds

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
    end,
    %% growth alerts from a trend with enough data (an hour, 7 snapshots, +8 MB/h)
    Grow = [#{timestamp => 600000 * I, total_memory => 100 * 1048576 + I * 8 * 1048576 div 6}
            || I <- lists:seq(0, 6)],
    ?assertMatch([#{metric := growth_mb_per_hour, level := warning}],
                 maps:get(alerts, ?M:analyze_memory_trend(Grow))).
