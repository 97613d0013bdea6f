%%% @doc erlmcp's `erlmcp_memory_profiler', backed by memacct: the seed's
%%% functions, arities and return shapes (`#memory_snapshot{}' from
%%% `include/erlmcp_memory_profiler.hrl', `{Bytes, MB}' from
%%% {@link memory_per_connection/1}, the result map of
%%% {@link simulate_100k_load/1} with `success' and
%%% `final_memory_per_connection_mb'), every figure measured through
%%% {@link memacct:decompose/1} and the trend through
%%% {@link memacct_decompose:trend/2} and {@link memacct_decompose:aggregate/1}.
%%%
%%% == What is corrected ==
%%% <dl>
%%% <dt>"RSS"</dt><dd>`rss_bytes' (and every `*_rss_*' / `*_memory_mb'
%%%   node figure) is the OS's resident set of the node (`VmRSS'), not
%%%   `erlang:memory(total)' (kept as `total_memory'); what neither explains
%%%   is the signed `residual_bytes', reported, not hidden.</dd>
%%% <dt>Per connection</dt><dd>Mean process memory of the alive connection
%%%   processes + their share of the refc binaries they hold (bytes /
%%%   holders) + the memacct pool bytes they own. The state lives inside the
%%%   process and is never added a second time; the node's base overhead is
%%%   not divided into the connections (the seed's "total memory / count"
%%%   made 1 connection cost 6.3 MB).</dd>
%%% <dt>The load</dt><dd>{@link simulate_100k_load/1} really starts the
%%%   connections ({@link memacct_sim}: `gen_server's holding states built
%%%   as erlmcp builds them), in batches (default 10), measures after each
%%%   batch, and stops them at the end. `success' is the measured
%%%   per-connection figure below the target — and every connection started.</dd>
%%% <dt>GC pauses</dt><dd>`gc_pause_max' is the longest GC (ms, an
%%%   integer) reported by `erlang:system_monitor/2' (`long_gc') while
%%%   profiling, and only if no other system monitor is installed (there is
%%%   one per node; it is never taken from someone else). When it was not
%%%   measured (profiler not running, or the system monitor taken) it is
%%%   `0' — an integer, so the seed's `GcPauseMax > 100' stays a plain
%%%   comparison — and `gc_pause_measured' is `false' (`true' when it was
%%%   measured): read that field to tell "no pause" from "not measured";
%%%   an unmeasured pause never raises an alert.</dd>
%%% <dt>History</dt><dd>The profiler keeps the last `max_snapshots'
%%%   snapshots (default 1000, about 20 KB each: some 20 MB at most; at the
%%%   default 1 s interval, the last ~17 minutes) and drops older ones
%%%   (counted in `snapshots_dropped' of {@link get_profiling_data/0}); the
%%%   seed's kept every snapshot forever.</dd>
%%% <dt>Trend</dt><dd>{@link analyze_memory_trend/1} fits least squares over
%%%   the snapshots (RSS and per-connection total), with R², and suspects a
%%%   leak only on enough points over enough time (see
%%%   {@link memacct_decompose:trend/2}).</dd>
%%% </dl>
%%%
%%% == Alert thresholds ==
%%% The seed's table, as defaults: per connection `{2.5, 3.0}' MB (warning,
%%% critical), pool reuse ratio `{70, 50}' %, GC pause `{80, 150}' ms,
%%% growth `{5, 10}' MB/hour; target 2.0 MB per connection. Override them
%%% in the application environment (`{memacct, [{erlmcp_memory_profiler,
%%% #{thresholds => #{gc_pause_ms => {50, 100}}}}]}') or per call
%%% (`#{thresholds => ...}' in the options of the `/2' variants). "MB" is
%%% MiB (2^20 bytes) throughout.
-module(erlmcp_memory_profiler).
-behaviour(gen_server).

-include("erlmcp_memory_profiler.hrl").

-export([start_profiling/0, start_profiling/1, stop_profiling/0, get_profiling_data/0,
         measure_memory_snapshot/0, measure_memory_snapshot/1,
         memory_per_connection/1, memory_per_connection/2,
         analyze_memory_trend/1, analyze_memory_trend/2,
         generate_report/0, generate_report/1,
         simulate_100k_load/1, simulate_100k_load/2,
         thresholds/1, alerts/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-compile(warn_missing_spec_all).

-define(SERVER, ?MODULE).
-define(MIB, 1048576).

-type memory_snapshot() :: #memory_snapshot{}.
-type level() :: warning | critical.
-type thresholds() :: #{per_connection_mb => {number(), number()},
                        pool_reuse_ratio_pct => {number(), number()},
                        gc_pause_ms => {number(), number()},
                        growth_mb_per_hour => {number(), number()},
                        target_mb_per_connection => number()}.
%% `{Warning, Critical}' pairs; the reuse ratio alerts below them, the
%% others above them.
-type alert() :: #{metric := atom(), level := level(), value := number(), threshold := number()}.
-type options() :: #{connection_pids => [pid()],
                     pool => term(),
                     interval_ms => pos_integer(),
                     max_snapshots => pos_integer(),
                     batches => pos_integer(),
                     thresholds => thresholds(),
                     trend => map()}.
%% `connection_pids' (default `[]': the node figures only) and `pool' are passed to {@link memacct:decompose/1};
%% `interval_ms' (default 1000) is the profiler's snapshot interval and
%% `max_snapshots' (default 1000) how many of its snapshots it keeps (the
%% oldest are dropped first);
%% `batches' (default 10) the load simulation's; `trend' the options of
%% {@link memacct_decompose:trend/2}.
-export_type([memory_snapshot/0, thresholds/0, alert/0, options/0]).

-define(DEFAULT_MAX_SNAPSHOTS, 1000).

-record(st, {opts :: options(),
             started_at :: non_neg_integer(),
             snapshots = queue:new() :: queue:queue(memory_snapshot()),
             count = 0 :: non_neg_integer(),
             dropped = 0 :: non_neg_integer(),
             monitor :: boolean(),
             gc_pause_max :: undefined | non_neg_integer()}).

%%% ---------------------------------------------------------------------------
%%% Profiling

%% @doc {@link start_profiling/1} with the application environment's options.
-spec start_profiling() -> ok | {error, already_profiling}.
start_profiling() ->
    start_profiling(#{}).

%% @doc Starts the profiler: a snapshot now and every `interval_ms', the
%% last `max_snapshots' of them kept. A bad `interval_ms' or
%% `max_snapshots' raises `badarg'.
-spec start_profiling(options()) -> ok | {error, already_profiling}.
start_profiling(Opts) ->
    Given = maps:merge(env(), Opts),
    case [K || K <- [interval_ms, max_snapshots], not pos_int(maps:get(K, Given, 1))] of
        [] -> ok;
        _ -> erlang:error(badarg, [Opts])
    end,
    case gen_server:start({local, ?SERVER}, ?MODULE, options(Opts), []) of
        {ok, _} -> ok;
        {error, {already_started, _}} -> {error, already_profiling}
    end.

%% @doc Stops the profiler and returns its data (see {@link get_profiling_data/0}).
-spec stop_profiling() -> map() | {error, not_profiling}.
stop_profiling() ->
    case get_profiling_data() of
        {error, _} = E -> E;
        Data ->
            _ = catch gen_server:stop(?SERVER),
            Data
    end.

%% @doc What the profiler measured so far: `snapshots' (the last
%% `max_snapshots', oldest first), `snapshots_dropped' (older ones no longer
%% kept), `max_snapshots', `started_at', `interval_ms', `gc_pause_max' (ms,
%% `0' when not measured) and `gc_pause_measured', the `trend'
%% ({@link analyze_memory_trend/1}) and `aggregate' (distributions over the
%% snapshots, {@link memacct_decompose:aggregate/1}).
-spec get_profiling_data() -> map() | {error, not_profiling}.
get_profiling_data() ->
    try gen_server:call(?SERVER, data, 30000)
    catch exit:{noproc, _} -> {error, not_profiling}
    end.

%%% ---------------------------------------------------------------------------
%%% Measuring

%% @doc {@link measure_memory_snapshot/1} with the application environment's options.
-spec measure_memory_snapshot() -> memory_snapshot().
measure_memory_snapshot() ->
    measure_memory_snapshot(#{}).

%% @doc One `#memory_snapshot{}' of this node (decomposed by memacct).
-spec measure_memory_snapshot(options()) -> memory_snapshot().
measure_memory_snapshot(Opts) ->
    Pause = case whereis(?SERVER) of
                undefined -> undefined;
                _ -> try gen_server:call(?SERVER, gc_pause_max, 5000)
                     catch exit:_ -> undefined
                     end
            end,
    snapshot(options(Opts), Pause).

%% @doc {@link memory_per_connection/2} with default options.
-spec memory_per_connection(non_neg_integer()) -> {float(), float()}.
memory_per_connection(Count) ->
    memory_per_connection(Count, #{}).

%% @doc Starts `Count' simulated connections, measures, stops them:
%% `{BytesPerConnection, MBPerConnection}' (process + off-heap share +
%% native; not the node's overhead divided by the count).
-spec memory_per_connection(non_neg_integer(), options()) -> {float(), float()}.
memory_per_connection(Count, Opts) ->
    Pids = memacct_sim:start_connections(Count),
    try
        {ok, D} = memacct:decompose((decompose_opts(options(Opts)))#{connection_pids => Pids}),
        Bytes = float(per_conn_total(D)),
        {Bytes, Bytes / ?MIB}
    after
        memacct_sim:stop_connections(Pids)
    end.

%% @doc {@link analyze_memory_trend/2} with the application environment's options.
-spec analyze_memory_trend([memory_snapshot()]) -> map() | {error, term()}.
analyze_memory_trend(Snapshots) ->
    analyze_memory_trend(Snapshots, #{}).

%% @doc Growth per hour of the RSS and of the per-connection figure over
%% `Snapshots' (least squares, {@link memacct_decompose:trend/2}), the
%% leak verdict and the growth alerts: `#{samples, span_hours,
%% rss_growth_mb_per_hour, per_connection_growth_mb_per_hour,
%% leak_suspected, reasons, alerts, trend}'.
-spec analyze_memory_trend([memory_snapshot()], options()) -> map() | {error, term()}.
analyze_memory_trend(Snapshots, Opts0) when is_list(Snapshots) ->
    Opts = options(Opts0),
    Ds = [D || #memory_snapshot{decomposition = D} <- Snapshots, map_size(D) > 0],
    case length(Ds) < 2 of
        true -> {error, {too_few_snapshots, length(Ds)}};
        false ->
            case memacct_decompose:trend(Ds, maps:get(trend, Opts, #{})) of
                {ok, T} ->
                    #{rss := Rss, per_connection_total := Pc} = T,
                    Growth = maps:get(slope_per_hour, Rss) / ?MIB,
                    #{samples => maps:get(points, T),
                      span_hours => maps:get(span_hours, T),
                      rss_growth_mb_per_hour => Growth,
                      per_connection_growth_mb_per_hour => maps:get(slope_per_hour, Pc) / ?MIB,
                      leak_suspected => maps:get(leak_suspected, T),
                      reasons => maps:get(reasons, T),
                      alerts => alerts(#{growth_mb_per_hour => Growth}, Opts),
                      trend => T};
                {error, _} = E -> E
            end
    end.

%% @doc {@link generate_report/1} with the application environment's options.
-spec generate_report() -> binary().
generate_report() ->
    generate_report(#{}).

%% @doc A human-readable report: a snapshot now (memacct's decomposition
%% report), the alerts, and the profiling trend when the profiler runs.
-spec generate_report(options()) -> binary().
generate_report(Opts0) ->
    Opts = options(Opts0),
    Snap = measure_memory_snapshot(Opts),
    #memory_snapshot{decomposition = D} = Snap,
    Alerts = alerts(snapshot_metrics(Snap, Opts), Opts),
    Trend = case get_profiling_data() of
                #{trend := #{} = T} ->
                    io_lib:format("~nTrend over ~b profiling snapshots: RSS ~.3f MB/hour, "
                                  "per connection ~.6f MB/hour, leak suspected: ~p~n",
                                  [maps:get(samples, T), maps:get(rss_growth_mb_per_hour, T),
                                   maps:get(per_connection_growth_mb_per_hour, T),
                                   maps:get(leak_suspected, T)]);
                _ -> "\nTrend: not profiling (start_profiling/0) or too few snapshots\n"
            end,
    iolist_to_binary(
      ["=== erlmcp memory profile (memacct) ===\n",
       maps:get(report, D, <<>>),
       io_lib:format("~nGC: ~b collections, ~b words reclaimed, longest pause ~s~n",
                     [Snap#memory_snapshot.gc_count, Snap#memory_snapshot.gc_words_reclaimed,
                      case Snap#memory_snapshot.gc_pause_measured of
                          false -> "not measured (profiler not running or system monitor taken)";
                          true -> integer_to_list(Snap#memory_snapshot.gc_pause_max) ++ " ms"
                      end]),
       Trend,
       case Alerts of
           [] -> "\nAlerts: none\n";
           _ -> ["\nAlerts:\n" | [io_lib:format("  ~s ~s: ~.3f (threshold ~p)~n", [L, M, float(V), Th])
                                  || #{metric := M, level := L, value := V, threshold := Th} <- Alerts]]
       end]).

%% @doc {@link simulate_100k_load/2} with the application environment's options.
-spec simulate_100k_load(pos_integer()) -> map().
simulate_100k_load(TargetCount) ->
    simulate_100k_load(TargetCount, #{}).

%% @doc Really starts `TargetCount' simulated connections in `batches'
%% batches, decomposing the node after each, then stops them. The map:
%% `success' (every connection started and the final per-connection
%% figure below `target_mb_per_connection'), `target_connections',
%% `connections', `batches', `batch_size', `initial_memory_mb' and
%% `final_memory_mb' (OS RSS), `memory_growth_mb',
%% `final_memory_per_connection_mb', `target_memory_per_connection_mb',
%% `results' (per batch: `connections', `connections_memory_mb',
%% `memory_per_connection_mb', `rss_mb', `residual_mb', `valid'),
%% `valid' and `violations' of the final decomposition, `alerts',
%% `duration_ms'.
-spec simulate_100k_load(pos_integer(), options()) -> map().
simulate_100k_load(TargetCount, Opts0) when is_integer(TargetCount), TargetCount > 0 ->
    Opts = options(Opts0),
    Batches = min(TargetCount, maps:get(batches, Opts, 10)),
    BatchSize = (TargetCount + Batches - 1) div Batches,
    T0 = erlang:monotonic_time(millisecond),
    Initial = snapshot(Opts, undefined),
    {Pids, Results, Last} = run_batches(0, TargetCount, BatchSize, Opts, [], [], undefined),
    try
        Target = maps:get(target_mb_per_connection, maps:get(thresholds, Opts)),
        FinalPerConn = per_conn_total(Last) / ?MIB,
        FinalRss = rss(Last) / ?MIB,
        InitialMb = Initial#memory_snapshot.rss_bytes / ?MIB,
        Alerts = alerts(#{per_connection_mb => FinalPerConn}, Opts),
        #{success => FinalPerConn < Target andalso length(Pids) =:= TargetCount,
          target_connections => TargetCount,
          connections => length(Pids),
          batches => length(Results),
          batch_size => BatchSize,
          initial_memory_mb => InitialMb,
          final_memory_mb => FinalRss,
          memory_growth_mb => FinalRss - InitialMb,
          final_memory_per_connection_mb => FinalPerConn,
          target_memory_per_connection_mb => float(Target),
          results => lists:reverse(Results),
          valid => maps:get(valid, Last),
          violations => maps:get(violations, Last),
          alerts => Alerts,
          duration_ms => erlang:monotonic_time(millisecond) - T0}
    after
        memacct_sim:stop_connections(Pids)
    end.

-spec run_batches(non_neg_integer(), pos_integer(), pos_integer(), options(), [pid()], [map()],
                  undefined | memacct_decompose:decomposition()) ->
          {[pid()], [map()], memacct_decompose:decomposition()}.
run_batches(Started, Target, _BatchSize, _Opts, Pids, Results, Last) when Started >= Target,
                                                                          Last =/= undefined ->
    {Pids, Results, Last};
run_batches(Started, Target, BatchSize, Opts, Pids, Results, _Last) ->
    Next = min(Target, Started + BatchSize),
    New = [memacct_sim:start_connection(N) || N <- lists:seq(Started + 1, Next)],
    All = New ++ Pids,
    {ok, D} = memacct:decompose((decompose_opts(Opts))#{connection_pids => All}),
    #{decomposition := #{per_node := Node}} = D,
    R = #{connections => Next,
          connections_memory_mb => maps:get(connections_bytes, Node) / ?MIB,
          memory_per_connection_mb => per_conn_total(D) / ?MIB,
          rss_mb => maps:get(rss_bytes, Node) / ?MIB,
          residual_mb => maps:get(residual_bytes, Node) / ?MIB,
          valid => maps:get(valid, D)},
    run_batches(Next, Target, BatchSize, Opts, All, [R | Results], D).

%%% ---------------------------------------------------------------------------
%%% Thresholds and alerts

%% @doc The thresholds in force: defaults, then the application
%% environment's, then `Opts''s `thresholds'.
-spec thresholds(options()) -> thresholds().
thresholds(Opts) ->
    Defaults = #{per_connection_mb => {2.5, 3.0},
                 pool_reuse_ratio_pct => {70, 50},
                 gc_pause_ms => {80, 150},
                 growth_mb_per_hour => {5, 10},
                 target_mb_per_connection => 2.0},
    Env = maps:get(thresholds, env(), #{}),
    maps:merge(maps:merge(Defaults, Env), maps:get(thresholds, Opts, #{})).

%% @doc The alerts of the `Metrics' given (any of `per_connection_mb',
%% `pool_reuse_ratio_pct', `gc_pause_ms', `growth_mb_per_hour'), critical
%% before warning, one per metric at most.
-spec alerts(#{atom() => number() | undefined}, options()) -> [alert()].
alerts(Metrics, Opts) ->
    Th = thresholds(Opts),
    lists:append([alert(M, V, maps:get(M, Th)) || {M, V} <- lists:sort(maps:to_list(Metrics)),
                                                  is_number(V), maps:is_key(M, Th)]).

-spec alert(atom(), number(), term()) -> [alert()].
alert(pool_reuse_ratio_pct = M, V, {Warn, Crit}) ->
    if V < Crit -> [#{metric => M, level => critical, value => V, threshold => Crit}];
       V < Warn -> [#{metric => M, level => warning, value => V, threshold => Warn}];
       true -> []
    end;
alert(M, V, {Warn, Crit}) ->
    if V > Crit -> [#{metric => M, level => critical, value => V, threshold => Crit}];
       V > Warn -> [#{metric => M, level => warning, value => V, threshold => Warn}];
       true -> []
    end;
alert(_, _, _) ->
    [].

%%% ---------------------------------------------------------------------------
%%% The profiler process

%% @private
-spec init(options()) -> {ok, #st{}}.
init(Opts) ->
    Monitor = case erlang:system_monitor() of
                  undefined ->
                      _ = erlang:system_monitor(self(), [{long_gc, 1}]),
                      true;
                  _ -> false
              end,
    St = #st{opts = Opts, started_at = erlang:system_time(millisecond), monitor = Monitor,
             gc_pause_max = case Monitor of true -> 0; false -> undefined end},
    self() ! tick,
    {ok, St}.

%% @private
-spec handle_call(term(), gen_server:from(), #st{}) -> {reply, term(), #st{}}.
handle_call(gc_pause_max, _From, St) ->
    {reply, St#st.gc_pause_max, St};
handle_call(data, _From, #st{snapshots = Q, opts = Opts} = St) ->
    Snaps = queue:to_list(Q),
    Aggregate = case memacct_decompose:aggregate([D || #memory_snapshot{decomposition = D} <- Snaps]) of
                    {ok, A} -> A;
                    {error, _} = E -> E
                end,
    {reply, #{snapshots => Snaps, started_at => St#st.started_at,
              interval_ms => maps:get(interval_ms, Opts),
              max_snapshots => maps:get(max_snapshots, Opts),
              snapshots_dropped => St#st.dropped,
              gc_pause_max => pause_ms(St#st.gc_pause_max),
              gc_pause_measured => is_integer(St#st.gc_pause_max),
              trend => analyze_memory_trend(Snaps, Opts),
              aggregate => Aggregate}, St};
handle_call(_Req, _From, St) ->
    {reply, {error, unknown_call}, St}.

%% @private
-spec handle_cast(term(), #st{}) -> {noreply, #st{}}.
handle_cast(_Msg, St) ->
    {noreply, St}.

%% @private
-spec handle_info(term(), #st{}) -> {noreply, #st{}}.
handle_info(tick, #st{opts = Opts} = St) ->
    erlang:send_after(maps:get(interval_ms, Opts), self(), tick),
    {noreply, keep(snapshot(Opts, St#st.gc_pause_max), St)};
handle_info({monitor, _Pid, long_gc, Info}, #st{gc_pause_max = Max} = St) when is_integer(Max) ->
    Ms = proplists:get_value(timeout, Info, 0),
    {noreply, St#st{gc_pause_max = max(Max, Ms)}};
handle_info(_Info, St) ->
    {noreply, St}.

%% @private
-spec terminate(term(), #st{}) -> ok.
terminate(_Reason, #st{monitor = true}) ->
    Self = self(),
    _ = case erlang:system_monitor() of
            {Self, _} -> erlang:system_monitor(undefined);
            _ -> ok
        end,
    ok;
terminate(_Reason, _St) ->
    ok.

%%% ---------------------------------------------------------------------------
%%% Internals

%% Appends a snapshot to the history, dropping the oldest beyond
%% `max_snapshots' (O(1) amortised).
-spec keep(memory_snapshot(), #st{}) -> #st{}.
keep(Snap, #st{opts = Opts, snapshots = Q, count = N} = St) ->
    trim(St#st{snapshots = queue:in(Snap, Q), count = N + 1}, maps:get(max_snapshots, Opts)).

-spec trim(#st{}, pos_integer()) -> #st{}.
trim(#st{count = N, snapshots = Q, dropped = D} = St, Max) when N > Max ->
    trim(St#st{snapshots = queue:drop(Q), count = N - 1, dropped = D + 1}, Max);
trim(St, _Max) ->
    St.

-spec pos_int(term()) -> boolean().
pos_int(N) -> is_integer(N) andalso N > 0.

%% The record's integer: the measured pause, or 0 when not measured.
-spec pause_ms(undefined | non_neg_integer()) -> non_neg_integer().
pause_ms(undefined) -> 0;
pause_ms(P) -> P.

-spec env() -> map().
env() ->
    case application:get_env(memacct, erlmcp_memory_profiler) of
        {ok, M} when is_map(M) -> M;
        _ -> #{}
    end.

-spec options(options()) -> options().
options(Opts) ->
    M = maps:merge(#{interval_ms => 1000, max_snapshots => ?DEFAULT_MAX_SNAPSHOTS,
                     batches => 10}, maps:merge(env(), Opts)),
    M#{thresholds => thresholds(Opts)}.

-spec decompose_opts(options()) -> map().
decompose_opts(Opts) ->
    maps:merge(#{connection_pids => []}, maps:with([connection_pids, pool], Opts)).

-spec snapshot(options(), undefined | non_neg_integer()) -> memory_snapshot().
snapshot(Opts, Pause) ->
    {ok, D} = memacct:decompose(decompose_opts(Opts)),
    #{decomposition := #{per_node := Node, counts := Counts}} = D,
    Beam = maps:get(beam, Node),
    {GcCount, GcWords, _} = erlang:statistics(garbage_collection),
    #memory_snapshot{timestamp = maps:get(timestamp_ms, maps:get(decomposition, D)),
                     node = node(),
                     rss_bytes = round(maps:get(rss_bytes, Node)),
                     total_memory = round(maps:get(total, Beam)),
                     process_memory = round(maps:get(processes, Beam)),
                     binary_memory = round(maps:get(binary, Beam)),
                     ets_memory = round(maps:get(ets, Beam)),
                     process_count = maps:get(process_count, Counts),
                     connections = maps:get(alive, Counts),
                     memory_per_connection = float(per_conn_total(D)),
                     gc_count = GcCount,
                     gc_words_reclaimed = GcWords,
                     gc_pause_max = pause_ms(Pause),
                     gc_pause_measured = is_integer(Pause),
                     residual_bytes = float(maps:get(residual_bytes, Node)),
                     valid = maps:get(valid, D),
                     decomposition = maps:remove(snapshot, D)}.

-spec snapshot_metrics(memory_snapshot(), options()) -> #{atom() => number() | undefined}.
snapshot_metrics(#memory_snapshot{connections = C, memory_per_connection = B, gc_pause_max = P,
                                  gc_pause_measured = Measured}, Opts) ->
    Pool = case maps:find(pool, Opts) of
               {ok, Pl} -> try 100 * maps:get(reuse_ratio, memacct_pool:stats(Pl))
                           catch error:_ -> undefined
                           end;
               error -> undefined
           end,
    #{per_connection_mb => case C of 0 -> undefined; _ -> B / ?MIB end,
      gc_pause_ms => case Measured of true -> P; false -> undefined end,
      pool_reuse_ratio_pct => Pool}.

-spec per_conn_total(memacct_decompose:decomposition()) -> number().
per_conn_total(#{decomposition := #{per_connection := C}}) ->
    case maps:get(total_bytes, C) of
        N when is_number(N) -> N;
        _ -> 0
    end.

-spec rss(memacct_decompose:decomposition()) -> number().
rss(#{decomposition := #{per_node := #{rss_bytes := R}}}) ->
    R.
