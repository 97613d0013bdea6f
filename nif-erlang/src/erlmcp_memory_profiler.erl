%%% @doc erlmcp's `erlmcp_memory_profiler', backed by memacct: a drop-in
%%% with erlmcp's functions, arities, record, map keys, value types and
%%% error atoms, every figure measured through {@link memacct:decompose/1}
%%% and the trend fitted by least squares ({@link memacct_decompose:trend/2}
%%% when the snapshots carry decompositions). What memacct adds is
%%% returned under further keys (and in the `/1', `/2' variants with
%%% options); nothing of erlmcp's shape is removed or retyped.
%%%
%%% == erlmcp's shapes, kept ==
%%% <ul>
%%% <li>`#memory_snapshot{}' (`include/erlmcp_memory_profiler.hrl'):
%%%   erlmcp's 10 fields in erlmcp's order (an 11-tuple), each an integer
%%%   in the unit its name says (`gc_reclaimed' in bytes, `gc_pause_max' in
%%%   ms). memacct's further figures: {@link measure_memory_detail/0}.</li>
%%% <li>{@link start_profiling/0} returns `ok', also when profiling
%%%   already: it starts over (a new baseline, the history emptied).</li>
%%% <li>{@link stop_profiling/0}: `baseline', `final' (snapshot maps),
%%%   `snapshots' (a count), `total_memory_delta', `process_count_delta',
%%%   `avg_gc_pause', plus memacct's keys; called again it returns the same
%%%   report; `{error, profiling_not_started}' when never started.</li>
%%% <li>{@link get_profiling_data/0}: `baseline', `snapshots' (a list of
%%%   snapshot maps), `snapshot_count', `duration_ms', plus memacct's keys;
%%%   `{error, no_profiling_data}' when never started; still answers after
%%%   {@link stop_profiling/0}, as erlmcp's did.</li>
%%% <li>{@link generate_report/0}: `{ok, string()}' (a flat string) or
%%%   `{error, no_profiling_data}'.</li>
%%% <li>{@link analyze_memory_trend/1}: erlmcp-style maps
%%%   (`#{timestamp, total_memory}'), snapshot maps of this module or
%%%   `#memory_snapshot{}' records; `{error, no_data}',
%%%   `{error, need_multiple_snapshots}', `{error, invalid_input}'; erlmcp's
%%%   keys `min_memory', `max_memory', `avg_memory', `memory_delta',
%%%   `avg_growth_per_snapshot', `trend_slope', `leak_indication'.</li>
%%% <li>{@link memory_per_connection/1}: `{integer(), float()}'.</li>
%%% <li>{@link simulate_100k_load/1}: erlmcp's keys (`batches_completed',
%%%   `final_process_count', `final_total_memory_mb',
%%%   `final_memory_per_connection', `final_memory_per_connection_mb',
%%%   `baseline_memory_mb', `memory_delta_mb', `batch_results', `success',
%%%   ...) and it starts the profiler, which keeps running afterwards as
%%%   erlmcp's did (read it with {@link get_profiling_data/0}, end it with
%%%   {@link stop_profiling/0}).</li>
%%% <li>{@link create_test_connections/2}, {@link create_test_connections/3}
%%%   and {@link measure_memory_after_delay/1}, as in erlmcp.</li>
%%% </ul>
%%%
%%% == What is corrected (meanings, not shapes) ==
%%% <dl>
%%% <dt>"RSS"</dt><dd>`total_memory' is `erlang:memory(total)', as erlmcp's
%%%   field name says; it is not the node's resident set. The OS's resident
%%%   set (`VmRSS') is `rss_bytes' of the snapshot maps
%%%   ({@link measure_memory_detail/0}), and what neither explains is the
%%%   signed `residual_bytes', reported, not hidden.</dd>
%%% <dt>Per connection</dt><dd>{@link memory_per_connection/1} and
%%%   {@link simulate_100k_load/1} really start the connections
%%%   ({@link memacct_sim} `gen_server's holding states built as erlmcp
%%%   builds them) and measure them: mean process memory of the alive
%%%   connections + their share of the refc binaries they hold + the memacct
%%%   pool bytes they own. The node's base overhead is not divided into the
%%%   connections (erlmcp's "total memory / count" made 1 connection cost
%%%   6.3 MB). `success' is this figure below the target (2.0 MB).</dd>
%%% <dt>Connections never outlive their owner</dt><dd>The connections are
%%%   started by a keeper process that is linked to them and monitors the
%%%   caller: when a start fails (e.g. `system_limit') every connection
%%%   already started is stopped before the error is raised (or returned, by
%%%   {@link create_test_connections/3}); when the caller dies (even
%%%   killed) they are all stopped; {@link memory_per_connection/1} and
%%%   {@link simulate_100k_load/1} stop them before they return.</dd>
%%% <dt>GC pauses</dt><dd>`gc_pause_max' is the longest GC (ms) reported by
%%%   `erlang:system_monitor/2' (`long_gc', 1 ms and longer) while
%%%   profiling, and only if no other system monitor is installed (there is
%%%   one per node; it is never taken from someone else). When not measured
%%%   (profiler not running, or the system monitor taken) it is `0' — so the
%%%   seed's `GcPauseMax > 100' stays a plain comparison that raises no
%%%   alert — and `gc_pause_measured' is `false' (in the snapshot maps and
%%%   the profiling data). `avg_gc_pause' is the mean of those reported
%%%   pauses (erlmcp averaged a field that was always 0).</dd>
%%% <dt>History</dt><dd>The profiler snapshots every `interval_ms' (default
%%%   1000; erlmcp took only the baseline) and keeps the last
%%%   `max_snapshots' (default 1000, about 8 KB each: measured 3.6-4.0 KB on
%%%   the profiler's heap plus 3.7-4.3 KB of off-heap binaries, idle and with
%%%   2,000 connections) — the baseline is
%%%   kept apart, always — and counts the older ones in
%%%   `snapshots_dropped'; erlmcp's history was unbounded.</dd>
%%% <dt>Durations</dt><dd>`duration_ms' is the time profiled so far (until
%%%   {@link stop_profiling/0} once stopped); erlmcp's was always 0.</dd>
%%% <dt>Trend</dt><dd>`trend_slope' is the least-squares slope of
%%%   `total_memory' in bytes per second (erlmcp divided the mean growth
%%%   per snapshot by the whole span); `leak_indication' is
%%%   `<<"possible_memory_leak">>' only when `leak_suspected': a series
%%%   (`total_memory'; RSS and the per-connection total when the snapshots
%%%   carry decompositions) grows on at least 5 snapshots over at least
%%%   0.25 h, by at least 1 % of its mean per hour, with R² at least 0.8
%%%   (erlmcp: any slope above 0.1) — see {@link memacct_decompose:trend/2}.</dd>
%%% <dt>`gc_reclaimed'</dt><dd>Bytes: words × the VM's word size (erlmcp
%%%   assumed 8).</dd>
%%% </dl>
%%%
%%% == Alert thresholds ==
%%% The seed's table, as defaults: per connection `{2.5, 3.0}' MB (warning,
%%% critical), pool reuse ratio `{70, 50}' %, GC pause `{80, 150}' ms,
%%% growth `{5, 10}' MB/hour; target 2.0 MB per connection. Override them
%%% in the application environment (`{memacct, [{erlmcp_memory_profiler,
%%% #{thresholds => #{gc_pause_ms => {50, 100}}}}]}') or per call
%%% (`#{thresholds => ...}' in the options of the `/1', `/2' variants).
%%% "MB" is MiB (2^20 bytes) throughout; erlmcp's integer `_mb' figures are
%%% `Bytes div 2^20', as erlmcp computed them.
-module(erlmcp_memory_profiler).
-behaviour(gen_server).

-include("erlmcp_memory_profiler.hrl").

-export([start_profiling/0, start_profiling/1, stop_profiling/0, get_profiling_data/0,
         create_test_connections/2, create_test_connections/3,
         measure_memory_snapshot/0, measure_memory_snapshot/1,
         measure_memory_detail/0, measure_memory_detail/1,
         measure_memory_after_delay/1,
         memory_per_connection/1, memory_per_connection/2,
         analyze_memory_trend/1, analyze_memory_trend/2,
         generate_report/0, generate_report/1,
         simulate_100k_load/1, simulate_100k_load/2,
         thresholds/1, alerts/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-compile(warn_missing_spec_all).

-define(SERVER, ?MODULE).
-define(MIB, 1048576).
%% A memory figure the trend can fit (a float, or an integer of 64 bits).
-define(MEMORY(M), (is_float(M) orelse (is_integer(M) andalso abs(M) =< 16#7FFFFFFFFFFFFFFF))).
-define(DEFAULT_MAX_SNAPSHOTS, 1000).
%% erlmcp's test connections slept 10 minutes, then ended.
-define(TEST_CONNECTION_LIFETIME_MS, 600000).

-type memory_snapshot() :: #memory_snapshot{}.
-type snapshot_map() :: #{atom() => term()}.
%% One snapshot as a map ({@link measure_memory_detail/1}): erlmcp's
%% snapshot map keys (`timestamp', `process_count', `total_memory',
%% `total_memory_mb', `process_memory', `binary_memory', `ets_memory',
%% `atom_memory', `gc_collections', `gc_reclaimed') plus memacct's
%% (`gc_pause_max', `gc_pause_measured', `gc_words_reclaimed', `node',
%% `rss_bytes', `rss_mb', `connections', `memory_per_connection',
%% `residual_bytes', `valid', `decomposition').
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
%% `connection_pids' (default `[]': the node figures only) and `pool' are
%% passed to {@link memacct:decompose/1};
%% `interval_ms' (default 1000) is the profiler's snapshot interval and
%% `max_snapshots' (default 1000) how many of its snapshots it keeps (the
%% oldest are dropped first);
%% `batches' (default 10) the load simulation's; `trend' the options of
%% {@link memacct_decompose:trend/2} (`min_points', `min_span_hours',
%% `min_r_squared', `min_growth_pct_per_hour'), also used for the
%% `total_memory' series.
-export_type([memory_snapshot/0, snapshot_map/0, thresholds/0, alert/0, options/0]).

-record(st, {opts :: options(),
             started_at :: integer(),
             stopped_at :: undefined | integer(),
             timer :: undefined | reference(),
             baseline :: snapshot_map(),
             snapshots :: queue:queue(snapshot_map()),
             count :: non_neg_integer(),
             dropped = 0 :: non_neg_integer(),
             monitor :: boolean(),
             gc_pause_max :: undefined | non_neg_integer(),
             gc_pause_sum = 0 :: non_neg_integer(),
             gc_pause_n = 0 :: non_neg_integer(),
             report :: undefined | map()}).
%% `stopped_at' (and the stored `report') once stopped; `monitor': the
%% system monitor is held now; `gc_pause_max' `undefined' when not measured.

%%% ---------------------------------------------------------------------------
%%% Profiling

%% @doc Starts profiling ({@link start_profiling/1} with the application
%% environment's options). Returns `ok' also when profiling already (or
%% stopped): it starts over, as erlmcp's did.
-spec start_profiling() -> ok.
start_profiling() ->
    start_profiling(#{}).

%% @doc Starts profiling: a baseline snapshot now, one every `interval_ms',
%% the last `max_snapshots' of them kept. When profiling already (or
%% stopped but not restarted), starts over with these options: a new
%% baseline, the history and the GC pause figures emptied. A bad option
%% (`interval_ms', `max_snapshots', `trend', `connection_pids', `pool')
%% raises `badarg'; a baseline that fails for another reason (a
%% `connection_pids' MFA that raises, say) raises
%% `{profiling_failed, Reason}'. Either way a running profiler goes on as it
%% was.
-spec start_profiling(options()) -> ok.
start_profiling(Opts) ->
    Given = maps:merge(env(), Opts),
    case [K || K <- [interval_ms, max_snapshots], not pos_int(maps:get(K, Given, 1))] of
        [] -> ok;
        _ -> erlang:error(badarg, [Opts])
    end,
    Full = options(Opts),
    %% A bad option (trend thresholds, connection pids, pool) fails the
    %% baseline snapshot: the profiler then does not start (`ignore'), or a
    %% running one keeps its state and history; the caller gets `badarg'
    %% (any other failure: `{profiling_failed, Reason}').
    case gen_server:start({local, ?SERVER}, ?MODULE, Full, []) of
        {ok, _} ->
            ok;
        {error, {already_started, Pid}} ->
            restart(Pid, Full, Opts);
        ignore ->
            erlang:error(badarg, [Opts]);
        {error, Reason} ->
            erlang:error({profiling_failed, Reason})
    end.

%% Starts the running profiler over with `Full'.
-spec restart(pid(), options(), options()) -> ok.
restart(Pid, Full, Opts) ->
    try gen_server:call(Pid, {restart, Full}, 30000) of
        ok -> ok;
        {error, badarg} -> erlang:error(badarg, [Opts]);
        {error, {profiling_failed, _} = Failed} -> erlang:error(Failed)
    catch exit:{Gone, _} when Gone =:= noproc; Gone =:= normal; Gone =:= shutdown ->
            %% it stopped between the two calls: start it again
            start_profiling(Opts)
    end.

%% @doc Stops profiling: a final snapshot, the sampling and the GC monitor
%% stopped, and the report returned. erlmcp's keys: `baseline' and `final'
%% (snapshot maps, see {@link measure_memory_detail/0}), `snapshots' (how
%% many snapshots are kept, the final one included: an integer),
%% `total_memory_delta' (bytes, final - baseline `total_memory'),
%% `process_count_delta' and `avg_gc_pause' (ms, a float: the mean GC
%% pause reported while profiling, `0.0' when none or not measured). Plus
%% the keys of {@link get_profiling_data/0} except `snapshots', whose list
%% is `snapshot_list' here. Called again (before a new
%% {@link start_profiling/0}) it returns the same report, as erlmcp's
%% returned its report again; the data stays readable with
%% {@link get_profiling_data/0}. `{error, profiling_not_started}' when
%% profiling was never started.
-spec stop_profiling() -> map() | {error, profiling_not_started}.
stop_profiling() ->
    try gen_server:call(?SERVER, stop, 60000)
    catch exit:{Gone, _} when Gone =:= noproc; Gone =:= normal; Gone =:= shutdown ->
            {error, profiling_not_started}
    end.

%% @doc What the profiler measured so far (or until it was stopped).
%% erlmcp's keys: `baseline' (the snapshot map taken at start),
%% `snapshots' (the kept snapshot maps, oldest first: the baseline, then
%% one per `interval_ms', the final one once stopped), `snapshot_count'
%% (their number) and `duration_ms' (ms profiled: until now, or until
%% stopped). memacct's: `running' (still sampling), `started_at' and
%% `stopped_at' (Unix ms; `undefined' while running), `interval_ms',
%% `max_snapshots', `snapshots_dropped' (older snapshots no longer kept),
%% `gc_pause_max' (ms, `0' when not measured), `gc_pause_measured',
%% `avg_gc_pause' (see {@link stop_profiling/0}), `trend'
%% ({@link analyze_memory_trend/2} of the kept snapshots, or its error
%% with a single one) and `aggregate' (distributions over their
%% decompositions, {@link memacct_decompose:aggregate/1}).
%% `{error, no_profiling_data}' when profiling was never started.
-spec get_profiling_data() -> map() | {error, no_profiling_data}.
get_profiling_data() ->
    try gen_server:call(?SERVER, data, 60000)
    catch exit:{Gone, _} when Gone =:= noproc; Gone =:= normal; Gone =:= shutdown ->
            {error, no_profiling_data}
    end.

%%% ---------------------------------------------------------------------------
%%% Test connections

%% @doc {@link create_test_connections/3} with no options.
-spec create_test_connections(pos_integer(), term()) -> {ok, [pid()]} | {error, term()}.
create_test_connections(Count, ServerPid) ->
    create_test_connections(Count, ServerPid, #{}).

%% @doc Starts `Count' test connections and returns their pids: real
%% connection processes ({@link memacct_sim}: `gen_server's holding
%% erlmcp-like states, so {@link memacct:decompose/1} can measure them),
%% where erlmcp spawned empty sleeping processes. As erlmcp's (linked to
%% the caller, ended after 10 minutes), they end with the caller — when it
%% exits for any reason — or after `lifetime_ms' (option, default 600000;
%% `infinity' for never), whichever comes first; kill one to end it
%% earlier. `ServerPid' is accepted for erlmcp's API and not used (erlmcp's
%% connections never contacted it either). When a start fails (e.g.
%% `system_limit') the ones already started are stopped and
%% `{error, Reason}' is returned. A `Count' that is not a positive integer
%% raises `function_clause', as erlmcp's did.
-spec create_test_connections(pos_integer(), pid() | term(), map()) ->
          {ok, [pid()]} | {error, term()}.
create_test_connections(Count, ServerPid, Options) when is_integer(Count), Count > 0 ->
    Lifetime = case Options of
                   #{lifetime_ms := L} when L =:= infinity; is_integer(L) andalso L >= 0 -> L;
                   #{lifetime_ms := _} -> erlang:error(badarg, [Count, ServerPid, Options]);
                   _ -> ?TEST_CONNECTION_LIFETIME_MS
               end,
    Keeper = memacct_sim_keeper:start(self(), Lifetime, true),
    case memacct_sim_keeper:add(Keeper, 1, Count) of
        {ok, Pids} -> {ok, Pids};
        {error, _} = E -> memacct_sim_keeper:stop(Keeper), E
    end.

%%% ---------------------------------------------------------------------------
%%% Measuring

%% @doc {@link measure_memory_snapshot/1} with the application environment's options.
-spec measure_memory_snapshot() -> memory_snapshot().
measure_memory_snapshot() ->
    measure_memory_snapshot(#{}).

%% @doc One `#memory_snapshot{}' of this node: erlmcp's record (see
%% `include/erlmcp_memory_profiler.hrl'), its fields from
%% {@link measure_memory_detail/1}.
-spec measure_memory_snapshot(options()) -> memory_snapshot().
measure_memory_snapshot(Opts) ->
    to_record(measure_memory_detail(Opts)).

%% @doc {@link measure_memory_detail/1} with the application environment's options.
-spec measure_memory_detail() -> snapshot_map().
measure_memory_detail() ->
    measure_memory_detail(#{}).

%% @doc One snapshot of this node as a map, decomposed by memacct:
%% erlmcp's snapshot map keys — `timestamp' (Unix ms), `process_count',
%% `total_memory' (bytes, `erlang:memory(total)'), `total_memory_mb'
%% (`total_memory div 2^20'), `process_memory', `binary_memory',
%% `ets_memory', `atom_memory', `gc_collections', `gc_reclaimed' (bytes) —
%% and memacct's: `gc_pause_max' (ms, `0' when not measured),
%% `gc_pause_measured', `gc_words_reclaimed', `node', `rss_bytes' (the OS's
%% resident set), `rss_mb' (float), `connections' (alive pids among
%% `connection_pids'), `memory_per_connection' (bytes, float: process +
%% off-heap share + native; `0.0' without connections), `residual_bytes'
%% (RSS - accounted, signed), `valid' (every decomposition rule holds) and
%% `decomposition' ({@link memacct:decompose/1}'s result without the raw
%% snapshot).
-spec measure_memory_detail(options()) -> snapshot_map().
measure_memory_detail(Opts) ->
    detail(options(Opts), profiler_pause()).

%% @doc Takes a snapshot, waits `DelayMs', takes another: `{Delta, DelayMs}',
%% `Delta' the change of `total_memory' in bytes (as erlmcp's).
-spec measure_memory_after_delay(non_neg_integer()) -> {integer(), non_neg_integer()}.
measure_memory_after_delay(DelayMs) when is_integer(DelayMs), DelayMs >= 0 ->
    #memory_snapshot{total_memory = Before} = measure_memory_snapshot(),
    timer:sleep(DelayMs),
    #memory_snapshot{total_memory = After} = measure_memory_snapshot(),
    {After - Before, DelayMs}.

%% @doc {@link memory_per_connection/2} with default options.
-spec memory_per_connection(non_neg_integer()) -> {integer(), float()}.
memory_per_connection(Count) ->
    memory_per_connection(Count, #{}).

%% @doc Starts `Count' simulated connections, measures them, stops them:
%% `{BytesPerConnection, MBPerConnection}', an integer (rounded) and a
%% float, as erlmcp's spec says (process + off-heap share + native; not
%% the node's memory divided by the count). The connections never outlive
%% the call: when a start fails (e.g. `system_limit') the ones started are
%% stopped and the error is raised; when the caller is killed they are
%% stopped.
-spec memory_per_connection(non_neg_integer(), options()) -> {integer(), float()}.
memory_per_connection(Count, Opts) when is_integer(Count), Count >= 0 ->
    with_connections(
      fun(Keeper) ->
              Pids = add_or_raise(Keeper, 1, Count),
              {ok, D} = memacct:decompose((decompose_opts(options(Opts)))#{connection_pids => Pids}),
              Bytes = per_conn_total(D),
              {round(Bytes), Bytes / ?MIB}
      end).

%%% ---------------------------------------------------------------------------
%%% Trend

%% @doc {@link analyze_memory_trend/2} with the application environment's options.
-spec analyze_memory_trend(term()) -> map() | {error, no_data | need_multiple_snapshots | invalid_input}.
analyze_memory_trend(Snapshots) ->
    analyze_memory_trend(Snapshots, #{}).

%% @doc The memory trend over `Snapshots': `#memory_snapshot{}' records,
%% snapshot maps ({@link measure_memory_detail/1}, the profiler's) or
%% erlmcp-style maps with an integer `timestamp' (ms) and a numeric `total_memory'
%% (bytes), mixed as you like. erlmcp's keys (over `total_memory', in the
%% order given): `min_memory', `max_memory', `avg_memory' (rounded),
%% `memory_delta' (last - first), `avg_growth_per_snapshot' (rounded
%% `memory_delta / (N - 1)'), `trend_slope' (bytes per second, float, the
%% least-squares slope over time; `0.0' when all timestamps are equal) and
%% `leak_indication' (`<<"possible_memory_leak">>' when `leak_suspected',
%% else `<<"normal">>'). memacct's: `samples', `span_hours',
%% `enough_data' (whether the snapshots are as many, over as long a span, as
%% a verdict needs),
%% `total_memory_fit' (the least-squares fit: `slope_per_hour',
%% `intercept', `r_squared', `mean', `growth_pct_per_hour'; `undefined'
%% when all timestamps are equal), `total_memory_growth_mb_per_hour',
%% `leak_suspected', `reasons' (one binary per suspect series), `alerts'
%% (growth per hour: RSS when known, else `total_memory'; only on as many
%% snapshots over as long a span as a leak verdict needs, never
%% extrapolated from a few seconds). When every snapshot carries a decomposition (snapshot maps),
%% also `rss_growth_mb_per_hour', `per_connection_growth_mb_per_hour'
%% (`undefined' without a fit) and `trend' ({@link memacct_decompose:trend/2}),
%% whose suspect series count in `leak_suspected' too.
%% `{error, no_data}' for `[]', `{error, need_multiple_snapshots}' for one
%% snapshot, `{error, invalid_input}' for anything else that is not a list
%% of snapshots.
-spec analyze_memory_trend(term(), options()) ->
          map() | {error, no_data | need_multiple_snapshots | invalid_input}.
analyze_memory_trend([], _Opts) ->
    {error, no_data};
analyze_memory_trend([_], _Opts) ->
    {error, need_multiple_snapshots};
analyze_memory_trend(Snapshots, Opts0) when is_list(Snapshots) ->
    case trend_points(Snapshots, [], []) of
        {ok, Points, Decs} -> trend_result(Points, Decs, options(Opts0));
        error -> {error, invalid_input}
    end;
analyze_memory_trend(_, _Opts) ->
    {error, invalid_input}.

-spec trend_points(term(), [{integer(), number()}], [map()] | none) ->
          {ok, [{integer(), number()}], [map()] | none} | error.
trend_points([], Points, Decs) ->
    {ok, lists:reverse(Points), case Decs of none -> none; _ -> lists:reverse(Decs) end};
trend_points([#memory_snapshot{timestamp = T, total_memory = M} | Rest], Points, _Decs)
  when is_integer(T), ?MEMORY(M) ->
    trend_points(Rest, [{T, M} | Points], none);
trend_points([#{timestamp := T, total_memory := M} = S | Rest], Points, Decs)
  when is_integer(T), ?MEMORY(M) ->
    Decs1 = case {S, Decs} of
                {_, none} -> none;
                {#{decomposition := #{decomposition := #{}} = D}, _} -> [D | Decs];
                _ -> none
            end,
    trend_points(Rest, [{T, M} | Points], Decs1);
trend_points(_, _Points, _Decs) ->
    error.

-spec trend_result([{integer(), number()}], [map()] | none, options()) -> map().
trend_result(Points, Decs, Opts) ->
    TrendOpts = maps:get(trend, Opts, #{}),
    Ms = [M || {_, M} <- Points],
    N = length(Ms),
    First = hd(Ms),
    Last = lists:last(Ms),
    %% memacct's leak rule on total_memory (core: the same fit and rule as
    %% the decompositions' trend).
    #{fit := Fit, span_hours := Span, enough_data := Enough, reason := Reason} =
        memacct_decompose:series_trend(<<"total_memory">>, Points, TrendOpts),
    TotalGrowth = case fit_growth_mb(Fit) of
                      undefined -> 0.0;
                      G -> G
                  end,
    TotalReasons = [Reason || is_binary(Reason)],
    {Extra, MemReasons, Growth} =
        case Decs of
            none ->
                {#{}, [], TotalGrowth};
            _ ->
                case memacct_decompose:trend(Decs, TrendOpts) of
                    {ok, T} ->
                        RssGrowth = fit_growth_mb(maps:get(rss, T)),
                        {#{rss_growth_mb_per_hour => RssGrowth,
                           per_connection_growth_mb_per_hour =>
                               fit_growth_mb(maps:get(per_connection_total, T)),
                           trend => T},
                         maps:get(reasons, T),
                         case RssGrowth of undefined -> TotalGrowth; _ -> RssGrowth end};
                    {error, _} = E ->
                        {#{trend => E}, [], TotalGrowth}
                end
        end,
    Reasons = TotalReasons ++ MemReasons,
    Leak = Reasons =/= [],
    Extra#{min_memory => round(lists:min(Ms)),
           max_memory => round(lists:max(Ms)),
           avg_memory => round(lists:sum(Ms) / N),
           memory_delta => round(Last - First),
           avg_growth_per_snapshot => round((Last - First) / (N - 1)),
           trend_slope => case Fit of
                              #{slope_per_hour := S} -> S / 3600;
                              _ -> 0.0
                          end,
           leak_indication => case Leak of
                                  true -> <<"possible_memory_leak">>;
                                  false -> <<"normal">>
                              end,
           samples => N,
           span_hours => Span,
           enough_data => Enough,
           total_memory_fit => Fit,
           total_memory_growth_mb_per_hour => TotalGrowth,
           leak_suspected => Leak,
           reasons => Reasons,
           %% a growth alert needs as much data as a leak verdict
           alerts => case Enough of
                         true -> alerts(#{growth_mb_per_hour => Growth}, Opts);
                         false -> []
                     end}.

-spec fit_growth_mb(undefined | map()) -> undefined | float().
fit_growth_mb(#{slope_per_hour := S}) -> S / ?MIB;
fit_growth_mb(_) -> undefined.

%%% ---------------------------------------------------------------------------
%%% Report

%% @doc {@link generate_report/1} with the application environment's options.
-spec generate_report() -> {ok, string()} | {error, no_profiling_data}.
generate_report() ->
    generate_report(#{}).

%% @doc A human-readable report of the profiling data, `{ok, Report}' with
%% `Report' a flat string: erlmcp's lines (baseline `total_memory' in MB,
%% snapshots collected, duration), then memacct's (profiler state, RSS, GC
%% pauses, the trend, the alerts) and a decomposition of the node now
%% (memacct's report). `{error, no_profiling_data}' when profiling was
%% never started, as erlmcp's.
-spec generate_report(options()) -> {ok, string()} | {error, no_profiling_data}.
generate_report(Opts0) ->
    case get_profiling_data() of
        {error, _} = E ->
            E;
        Data ->
            Opts = options(Opts0),
            Now = measure_memory_detail(Opts),
            {ok, report(Data, Now, Opts)}
    end.

-spec report(map(), snapshot_map(), options()) -> string().
report(Data, Now, Opts) ->
    #{baseline := Base, snapshots := Snaps, snapshot_count := Count, duration_ms := Duration,
      running := Running, interval_ms := Interval, max_snapshots := Max,
      snapshots_dropped := Dropped, gc_pause_max := Pause, gc_pause_measured := Measured,
      avg_gc_pause := AvgPause, trend := Trend} = Data,
    Latest = lists:last(Snaps),
    TrendAlerts = case Trend of #{alerts := TA} -> TA; _ -> [] end,
    Alerts = alerts(snapshot_metrics(Now, Opts), Opts) ++ TrendAlerts
        ++ case Measured of
               true -> alerts(#{gc_pause_ms => Pause}, Opts);
               false -> []
           end,
    DecReport = maps:get(report, maps:get(decomposition, Now, #{}), <<>>),
    lists:flatten(
      [io_lib:format("Memory Profiling Report~n"
                     "=======================~n"
                     "Baseline Memory: ~b MB~n"
                     "Snapshots Collected: ~b~n"
                     "Duration: ~b ms~n~n",
                     [maps:get(total_memory_mb, Base), Count, Duration]),
       io_lib:format("Profiler: ~s, a snapshot every ~b ms, the last ~b kept (~b dropped)~n"
                     "erlang:memory(total): baseline ~.3f MB, latest ~.3f MB~n"
                     "RSS (OS view): baseline ~.3f MB, latest ~.3f MB~n",
                     [case Running of true -> "running"; false -> "stopped" end,
                      Interval, Max, Dropped,
                      maps:get(total_memory, Base) / ?MIB, maps:get(total_memory, Latest) / ?MIB,
                      maps:get(rss_mb, Base), maps:get(rss_mb, Latest)]),
       case Measured of
           true -> io_lib:format("GC: longest pause ~b ms, mean pause ~.1f ms (pauses of 1 ms or more)~n",
                                 [Pause, AvgPause]);
           false -> "GC: longest pause not measured (the system monitor is taken by another process)\n"
       end,
       case Trend of
           #{samples := N, leak_indication := Ind} ->
               io_lib:format("Trend over ~b snapshots (~.4f h): total_memory ~.3f MB/hour~ts, "
                             "leak indication: ~ts~ts~n",
                             [N, maps:get(span_hours, Trend),
                              maps:get(total_memory_growth_mb_per_hour, Trend),
                              case maps:get(rss_growth_mb_per_hour, Trend, undefined) of
                                  R when is_float(R) -> io_lib:format(", RSS ~.3f MB/hour", [R]);
                                  _ -> ""
                              end,
                              Ind,
                              case maps:get(enough_data, Trend, true) of
                                  true -> "";
                                  false -> " (too little data for a verdict: the rates are "
                                           "extrapolated from a short span)"
                              end]);
           _ ->
               "Trend: too few snapshots\n"
       end,
       case Alerts of
           [] -> "Alerts: none\n";
           _ -> ["Alerts:\n" | [io_lib:format("  ~s ~s: ~.3f (threshold ~p)~n", [L, M, float(V), Th])
                                || #{metric := M, level := L, value := V, threshold := Th} <- Alerts]]
       end,
       "\n=== The node now (memacct) ===\n",
       to_chars(DecReport)]).

-spec to_chars(unicode:unicode_binary()) -> string().
to_chars(Bin) ->
    unicode:characters_to_list(Bin).

%%% ---------------------------------------------------------------------------
%%% Load

%% @doc {@link simulate_100k_load/2} with the application environment's options.
-spec simulate_100k_load(pos_integer()) -> map().
simulate_100k_load(TargetCount) ->
    simulate_100k_load(TargetCount, #{}).

%% @doc Starts profiling ({@link start_profiling/1}, with `interval_ms',
%% `max_snapshots', `thresholds' and `trend' of `Opts'; it keeps running
%% afterwards, as erlmcp's did), then really starts `TargetCount' simulated
%% connections in `batches' batches, decomposing the node after each, and
%% stops them before returning (also when a start fails: the error, e.g.
%% `system_limit', is raised; and when the caller is killed).
%%
%% erlmcp's keys: `success' (every connection started and the final
%% per-connection figure below `target_mb_per_connection'),
%% `target_connections', `batches_completed', `final_process_count',
%% `final_total_memory_mb' and `baseline_memory_mb' (integers,
%% `erlang:memory(total) div 2^20'), `memory_delta_mb' (integer, their
%% difference `div 2^20'), `final_memory_per_connection' (bytes, integer),
%% `final_memory_per_connection_mb' (float), `batch_results' (per batch:
%% `batch', `connection_count', `memory_per_connection' (integer),
%% `memory_per_connection_mb', `total_memory_mb' (integer),
%% `process_count', `timestamp', and memacct's `connections',
%% `connections_memory_mb', `rss_mb', `residual_mb', `valid').
%% memacct's: `connections', `batches', `batch_size', `initial_memory_mb'
%% and `final_memory_mb' (OS RSS, floats), `memory_growth_mb',
%% `target_memory_per_connection_mb', `results' (= `batch_results'),
%% `valid' and `violations' of the final decomposition, `alerts',
%% `duration_ms'.
-spec simulate_100k_load(pos_integer(), options()) -> map().
simulate_100k_load(TargetCount, Opts0) when is_integer(TargetCount), TargetCount > 0 ->
    ok = start_profiling(maps:with([interval_ms, max_snapshots, thresholds, trend], Opts0)),
    Opts = options(Opts0),
    Batches = min(TargetCount, maps:get(batches, Opts, 10)),
    BatchSize = (TargetCount + Batches - 1) div Batches,
    T0 = erlang:monotonic_time(millisecond),
    Initial = measure_memory_detail(Opts),
    {Pids, Results, Last} =
        with_connections(
          fun(Keeper) ->
                  run_batches(Keeper, 1, 0, TargetCount, BatchSize, Opts, [], [], undefined)
          end),
    #{decomposition := #{counts := LastCounts}} = Last,
    Target = maps:get(target_mb_per_connection, maps:get(thresholds, Opts)),
    FinalPerConnBytes = per_conn_total(Last),
    FinalPerConn = FinalPerConnBytes / ?MIB,
    FinalRss = rss(Last) / ?MIB,
    InitialMb = maps:get(rss_mb, Initial),
    InitialTotal = maps:get(total_memory, Initial),
    FinalTotal = beam_total(Last),
    Alerts = alerts(#{per_connection_mb => FinalPerConn}, Opts),
    BatchResults = lists:reverse(Results),
    #{success => FinalPerConn < Target andalso length(Pids) =:= TargetCount,
      target_connections => TargetCount,
      batches_completed => length(Results),
      final_process_count => maps:get(process_count, LastCounts),
      final_total_memory_mb => FinalTotal div ?MIB,
      final_memory_per_connection => round(FinalPerConnBytes),
      final_memory_per_connection_mb => FinalPerConn,
      baseline_memory_mb => InitialTotal div ?MIB,
      memory_delta_mb => (FinalTotal - InitialTotal) div ?MIB,
      batch_results => BatchResults,
      connections => length(Pids),
      batches => length(Results),
      batch_size => BatchSize,
      initial_memory_mb => InitialMb,
      final_memory_mb => FinalRss,
      memory_growth_mb => FinalRss - InitialMb,
      target_memory_per_connection_mb => float(Target),
      results => BatchResults,
      valid => maps:get(valid, Last),
      violations => maps:get(violations, Last),
      alerts => Alerts,
      duration_ms => erlang:monotonic_time(millisecond) - T0}.

-spec run_batches(pid(), pos_integer(), non_neg_integer(), pos_integer(), pos_integer(), options(),
                  [pid()], [map()], undefined | memacct_decompose:decomposition()) ->
          {[pid()], [map()], memacct_decompose:decomposition()}.
run_batches(_Keeper, _Batch, Started, Target, _BatchSize, _Opts, Pids, Results, Last)
  when Started >= Target, Last =/= undefined ->
    {Pids, Results, Last};
run_batches(Keeper, Batch, Started, Target, BatchSize, Opts, Pids, Results, _Last) ->
    Next = min(Target, Started + BatchSize),
    New = add_or_raise(Keeper, Started + 1, Next),
    All = New ++ Pids,
    {ok, D} = memacct:decompose((decompose_opts(Opts))#{connection_pids => All}),
    #{decomposition := #{per_node := Node, counts := Counts, timestamp_ms := Ts}} = D,
    PerConn = per_conn_total(D),
    R = #{batch => Batch,
          connection_count => Next,
          memory_per_connection => round(PerConn),
          memory_per_connection_mb => PerConn / ?MIB,
          total_memory_mb => beam_total(D) div ?MIB,
          process_count => maps:get(process_count, Counts),
          timestamp => Ts,
          connections => Next,
          connections_memory_mb => maps:get(connections_bytes, Node) / ?MIB,
          rss_mb => maps:get(rss_bytes, Node) / ?MIB,
          residual_mb => maps:get(residual_bytes, Node) / ?MIB,
          valid => maps:get(valid, D)},
    run_batches(Keeper, Batch + 1, Next, Target, BatchSize, Opts, All, [R | Results], D).

%%% ---------------------------------------------------------------------------
%%% Connections tied to their owner (memacct_sim_keeper)

-spec with_connections(fun((pid()) -> T)) -> T.
with_connections(Fun) ->
    Keeper = memacct_sim_keeper:start(self(), infinity, false),
    try Fun(Keeper)
    after
        memacct_sim_keeper:stop(Keeper)
    end.

-spec add_or_raise(pid(), pos_integer(), non_neg_integer()) -> [pid()].
add_or_raise(Keeper, First, Last) ->
    case memacct_sim_keeper:add(Keeper, First, Last) of
        {ok, Pids} -> Pids;
        {error, Reason} -> erlang:error(Reason)
    end.

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
-spec init(options()) -> {ok, #st{}} | ignore | {stop, term()}.
init(Opts) ->
    Monitor = acquire_monitor(),
    case try_begin(Opts, Monitor) of
        {ok, St} ->
            {ok, St};
        badarg ->
            _ = release_monitor(Monitor),
            ignore;
        {failed, Reason} ->
            _ = release_monitor(Monitor),
            {stop, Reason}
    end.

%% begin_profiling/2, telling bad options (`badarg') from a baseline that
%% failed for another reason.
-spec try_begin(options(), boolean()) -> {ok, #st{}} | badarg | {failed, term()}.
try_begin(Opts, Monitor) ->
    try
        {ok, begin_profiling(Opts, Monitor)}
    catch
        error:badarg -> badarg;
        error:{badmatch, {error, {invalid_option, _}}} -> badarg;
        _:Reason -> {failed, Reason}
    end.

%% @private
-spec handle_call(term(), gen_server:from(), #st{}) -> {reply, term(), #st{}}.
handle_call(gc_pause_max, _From, #st{stopped_at = undefined} = St) ->
    {reply, St#st.gc_pause_max, St};
handle_call(gc_pause_max, _From, St) ->
    {reply, undefined, St};
handle_call({restart, Opts}, _From, St) ->
    Monitor = St#st.monitor orelse acquire_monitor(),
    case try_begin(Opts, Monitor) of
        {ok, New} ->
            _ = cancel_timer(St#st.timer),
            {reply, ok, New};
        Failed ->
            %% the profiler goes on as it was
            Kept = St#st.monitor orelse release_monitor(Monitor),
            Reply = case Failed of
                        badarg -> {error, badarg};
                        {failed, Reason} -> {error, {profiling_failed, Reason}}
                    end,
            {reply, Reply, St#st{monitor = Kept}}
    end;
handle_call(data, _From, St) ->
    {reply, data(St), St};
handle_call(stop, _From, #st{stopped_at = undefined, opts = Opts} = St0) ->
    Final = detail(Opts, St0#st.gc_pause_max),
    _ = cancel_timer(St0#st.timer),
    St1 = (keep(Final, St0))#st{stopped_at = erlang:system_time(millisecond), timer = undefined,
                                monitor = release_monitor(St0#st.monitor)},
    Data = data(St1),
    #{baseline := Base, snapshots := Snaps} = Data,
    Report = Data#{snapshots => length(Snaps),
                   snapshot_list => Snaps,
                   final => Final,
                   total_memory_delta => maps:get(total_memory, Final) - maps:get(total_memory, Base),
                   process_count_delta => maps:get(process_count, Final) - maps:get(process_count, Base)},
    {reply, Report, St1#st{report = Report}};
handle_call(stop, _From, #st{report = Report} = St) ->
    {reply, Report, St};
handle_call(_Req, _From, St) ->
    {reply, {error, unknown_call}, St}.

%% @private
-spec handle_cast(term(), #st{}) -> {noreply, #st{}}.
handle_cast(_Msg, St) ->
    {noreply, St}.

%% @private
-spec handle_info(term(), #st{}) -> {noreply, #st{}}.
handle_info({timeout, Ref, tick}, #st{timer = Ref, stopped_at = undefined, opts = Opts} = St)
  when is_reference(Ref) ->
    Timer = erlang:start_timer(maps:get(interval_ms, Opts), self(), tick),
    {noreply, keep(detail(Opts, St#st.gc_pause_max), St#st{timer = Timer})};
handle_info({monitor, _Pid, long_gc, Info},
            #st{gc_pause_max = Max, stopped_at = undefined, monitor = true} = St) when is_integer(Max) ->
    Ms = case proplists:get_value(timeout, Info, 0) of
             T when is_integer(T), T >= 0 -> T;
             _ -> 0
         end,
    {noreply, St#st{gc_pause_max = max(Max, Ms), gc_pause_sum = St#st.gc_pause_sum + Ms,
                    gc_pause_n = St#st.gc_pause_n + 1}};
handle_info(_Info, St) ->
    {noreply, St}.

%% @private
-spec terminate(term(), #st{}) -> ok.
terminate(_Reason, #st{monitor = Monitor}) ->
    _ = release_monitor(Monitor),
    ok.

%% A new profiling state, its baseline taken now; raises on bad options
%% (before any timer is started).
-spec begin_profiling(options(), boolean()) -> #st{}.
begin_profiling(Opts, Monitor) ->
    %% the trend's thresholds are checked now, not at the first read
    _ = memacct_decompose:series_trend(<<"total_memory">>, [], maps:get(trend, Opts, #{})),
    Pause = case Monitor of true -> 0; false -> undefined end,
    StartedAt = erlang:system_time(millisecond),
    Base = detail(Opts, Pause),
    #st{opts = Opts, started_at = StartedAt, baseline = Base,
        snapshots = queue:from_list([Base]), count = 1,
        timer = erlang:start_timer(maps:get(interval_ms, Opts), self(), tick),
        monitor = Monitor, gc_pause_max = Pause}.

-spec data(#st{}) -> map().
data(#st{snapshots = Q, opts = Opts, baseline = Base} = St) ->
    Snaps = queue:to_list(Q),
    Aggregate = case memacct_decompose:aggregate([maps:get(decomposition, S) || S <- Snaps]) of
                    {ok, A} -> A;
                    {error, _} = E -> E
                end,
    End = case St#st.stopped_at of
              undefined -> erlang:system_time(millisecond);
              T -> T
          end,
    #{baseline => Base,
      snapshots => Snaps,
      snapshot_count => St#st.count,
      duration_ms => End - St#st.started_at,
      running => St#st.stopped_at =:= undefined,
      started_at => St#st.started_at,
      stopped_at => St#st.stopped_at,
      interval_ms => maps:get(interval_ms, Opts),
      max_snapshots => maps:get(max_snapshots, Opts),
      snapshots_dropped => St#st.dropped,
      gc_pause_max => pause_ms(St#st.gc_pause_max),
      gc_pause_measured => is_integer(St#st.gc_pause_max),
      avg_gc_pause => case St#st.gc_pause_n of
                          0 -> 0.0;
                          N -> St#st.gc_pause_sum / N
                      end,
      trend => analyze_memory_trend(Snaps, Opts),
      aggregate => Aggregate}.

-spec acquire_monitor() -> boolean().
acquire_monitor() ->
    Self = self(),
    case erlang:system_monitor() of
        undefined ->
            _ = erlang:system_monitor(Self, [{long_gc, 1}]),
            true;
        {Self, _} ->
            true;
        _ ->
            false
    end.

%% Gives the system monitor back if this process still holds it; `false'.
-spec release_monitor(boolean()) -> false.
release_monitor(true) ->
    Self = self(),
    _ = case erlang:system_monitor() of
            {Self, _} -> erlang:system_monitor(undefined);
            _ -> ok
        end,
    false;
release_monitor(false) ->
    false.

-spec cancel_timer(undefined | reference()) -> ok.
cancel_timer(undefined) ->
    ok;
cancel_timer(Ref) ->
    _ = erlang:cancel_timer(Ref),
    ok.

%% The profiler's GC pause figure for a snapshot taken by another process:
%% `undefined' (not measured) unless the profiler runs with the monitor.
-spec profiler_pause() -> undefined | non_neg_integer().
profiler_pause() ->
    case whereis(?SERVER) of
        undefined ->
            undefined;
        Pid ->
            try gen_server:call(Pid, gc_pause_max, 5000) of
                P when is_integer(P), P >= 0 -> P;
                _ -> undefined
            catch exit:_ -> undefined
            end
    end.

%%% ---------------------------------------------------------------------------
%%% Internals

%% Appends a snapshot to the history, dropping the oldest beyond
%% `max_snapshots' (O(1) amortised).
-spec keep(snapshot_map(), #st{}) -> #st{}.
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

-spec detail(options(), undefined | non_neg_integer()) -> snapshot_map().
detail(Opts, Pause) ->
    {ok, D} = memacct:decompose(decompose_opts(Opts)),
    #{decomposition := #{per_node := Node, counts := Counts, timestamp_ms := Ts}} = D,
    Beam = maps:get(beam, Node),
    {GcCount, GcWords, _} = erlang:statistics(garbage_collection),
    Total = int(total, Beam),
    Rss = maps:get(rss_bytes, Node),
    #{timestamp => Ts,
      process_count => maps:get(process_count, Counts),
      total_memory => Total,
      total_memory_mb => Total div ?MIB,
      process_memory => int(processes, Beam),
      binary_memory => int(binary, Beam),
      ets_memory => int(ets, Beam),
      atom_memory => int(atom, Beam),
      gc_collections => GcCount,
      gc_reclaimed => GcWords * erlang:system_info(wordsize),
      gc_words_reclaimed => GcWords,
      gc_pause_max => pause_ms(Pause),
      gc_pause_measured => is_integer(Pause),
      node => node(),
      rss_bytes => round(Rss),
      rss_mb => Rss / ?MIB,
      connections => maps:get(alive, Counts),
      memory_per_connection => float(per_conn_total(D)),
      residual_bytes => float(maps:get(residual_bytes, Node)),
      valid => maps:get(valid, D),
      decomposition => maps:remove(snapshot, D)}.

-spec to_record(snapshot_map()) -> memory_snapshot().
to_record(#{timestamp := Ts, process_count := Procs, total_memory := Total,
            process_memory := Process, binary_memory := Binary, ets_memory := Ets,
            atom_memory := Atom, gc_collections := GcCount, gc_reclaimed := GcBytes,
            gc_pause_max := Pause}) ->
    #memory_snapshot{timestamp = Ts, process_count = Procs, total_memory = Total,
                     process_memory = Process, binary_memory = Binary, ets_memory = Ets,
                     atom_memory = Atom, gc_collections = GcCount, gc_reclaimed = GcBytes,
                     gc_pause_max = Pause}.

%% A BEAM figure of the decomposition (core always reports these) as
%% erlmcp's integer bytes.
-spec int(atom(), map()) -> integer().
int(Key, Map) ->
    round(maps:get(Key, Map)).

-spec beam_total(memacct_decompose:decomposition()) -> integer().
beam_total(#{decomposition := #{per_node := #{beam := Beam}}}) ->
    int(total, Beam).

-spec snapshot_metrics(snapshot_map(), options()) -> #{atom() => number() | undefined}.
snapshot_metrics(#{connections := C, memory_per_connection := B}, Opts) ->
    Pool = case maps:find(pool, Opts) of
               {ok, Pl} -> try 100 * maps:get(reuse_ratio, memacct_pool:stats(Pl))
                           catch error:_ -> undefined
                           end;
               error -> undefined
           end,
    #{per_connection_mb => case C of 0 -> undefined; _ -> B / ?MIB end,
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
