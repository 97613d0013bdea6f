%%% @doc Honest memory decomposition of a node, or of a cluster: where the
%%% node's resident set goes — per connection, per node, and the residual
%%% nothing explains — validated, with reports.
%%%
%%% {@link memacct_collect} measures the node and builds the snapshot
%%% (`docs/SNAPSHOT.md'); the Rust core (`memacct_core::decompose', through
%%% the NIF) decomposes it, checks every rule and writes the reports. The
%%% usual entry points are the `memacct' functions that call this module:
%%% {@link memacct:decompose/1}, {@link memacct:decompose_cluster/2},
%%% {@link memacct:snapshot/1}, {@link memacct:write_snapshot/2},
%%% {@link memacct:format_report/1}.
%%%
%%% == The identities (nothing counted twice) ==
%%% ```
%%% per connection:  process  = process_info(P, memory), every alive connection
%%%                   state   = sampled sys:get_state/2 sizes (an estimate, 95% CI) — INSIDE process
%%%                   heap    = process - state
%%%                   total   = process + off-heap share (bytes/holders per refc binary) + native pool bytes
%%% per node:        accounted = erlang:memory(total) + (allocator carriers - blocks) + native
%%%                               + OS-mapped pages (RssFile + RssShmem, its JIT second view excluded)
%%%                   residual  = OS RSS - accounted      (signed, also in % of RSS)
%%%                   base overhead = accounted - alive x per-connection total
%%%                   RSS = base overhead + connections + residual, exactly
%%% '''
%%% `erlang:memory/0' counts what the VM allocated, the RSS what was written:
%%% heaps just grown and carrier free space may not be resident yet. Their
%%% measured sum, `unwritten_bound_bytes', widens the accepted residual
%%% downwards only: `-(tolerance x RSS + unwritten) =< residual =< tolerance x RSS'.
%%%
%%% A cluster is the sum of the nodes that answered; a node that did not is
%%% listed in `missing' and never counted as 0.
%%%
%%% == Example ==
%%% ```
%%% 1> Pids = memacct_sim:start_connections(1000).
%%% 2> {ok, D} = memacct:decompose(#{connection_pids => Pids}).
%%% 3> maps:get(valid, D).
%%% true
%%% 4> io:format("~s", [memacct:format_report(D)]).
%%% 5> memacct:write_snapshot("node.json", maps:get(snapshot, D)).   % Python: memacct.load_snapshot
%%% '''
-module(memacct_decompose).

-export([decompose/1, decompose_snapshot/2, decompose_cluster/2,
         format_report/1, format_compact/1, to_json/1,
         aggregate/1, trend/1, trend/2, series_trend/3]).

-compile(warn_missing_spec_all).

-type options() :: #{tolerance => number(),
                     epsilon => number(),
                     ci_method => student_t | normal,
                     node_timeout => timeout(),
                     atom() => term()}.
%% {@link memacct_collect:options()} plus:
%% <dl>
%% <dt>`tolerance'</dt><dd>Largest accepted `|residual| / RSS' (beyond the
%%   allocated-but-unwritten bound, for a negative residual) before the rule
%%   `residual_within_tolerance' is violated; default 0.05.</dd>
%% <dt>`epsilon'</dt><dd>Relative tolerance of the sum identities (float
%%   rounding); default 1.0e-9.</dd>
%% <dt>`ci_method'</dt><dd>The state estimate's 95% interval: `student_t'
%%   (default) or `normal'.</dd>
%% <dt>`node_timeout'</dt><dd>{@link decompose_cluster/2}: milliseconds for
%%   all nodes to answer; default 5000.</dd>
%% </dl>

-type violation() :: #{rule := atom(), message := binary(), figures := #{atom() => float()}}.
%% One broken rule: its stable code (`memacct_core::decompose::RULES'), a
%% sentence, and the figures (bytes unless the name says otherwise).

-type decomposition() :: #{decomposition := map(),
                           violations := [violation()],
                           valid := boolean(),
                           report := binary(),
                           compact := map(),
                           seed := map(),
                           json := binary(),
                           snapshot => memacct_collect:snapshot()}.
%% <dl>
%% <dt>`decomposition'</dt><dd>Every figure (bytes, floats): `per_connection'
%%   (`process_bytes', `state' — the estimate with `mean', `ci_low',
%%   `ci_high', `half_width', `sample_size', `population', ... —,
%%   `heap_bytes', `off_heap_share_bytes', `native_bytes', `total_bytes',
%%   `process_distribution'), `per_node' (`rss_bytes', `beam', allocator
%%   overhead, native, `os_mapped_bytes', `unwritten_bound_bytes',
%%   `accounted_bytes', `residual_bytes',
%%   `residual_pct_of_rss', `connections_bytes', `base_overhead_bytes'),
%%   `counts' (`connections' counts distinct pids: the repeats the collector
%%   dropped are `connections.duplicates' of the snapshot); absent figures
%%   are `undefined'.</dd>
%% <dt>`violations'</dt><dd>Every broken rule (all of them, not the first);
%%   `valid' is `violations =:= []'.</dd>
%% <dt>`report', `compact', `json'</dt><dd>The text report, the compact
%%   map (the seed's `format_compact' keys with corrected meanings, plus the
%%   residual and the state interval) and the decomposition as JSON.</dd>
%% <dt>`seed'</dt><dd>The fields of erlmcp's `#memory_decomposition{}'.</dd>
%% <dt>`snapshot'</dt><dd>What was measured (when measured here).</dd>
%% </dl>

-type cluster_decomposition() :: #{cluster := map(),
                                   violations := [violation()],
                                   valid := boolean(),
                                   report := [binary()],
                                   cluster_report := binary(),
                                   seed := [{binary(), map()}],
                                   json := binary(),
                                   snapshot => memacct_collect:snapshot()}.
%% `cluster': the nodes' decompositions, `missing' nodes with their reason,
%% `node_count' (answered), `total_rss_bytes', `total_accounted_bytes',
%% `total_residual_bytes', `total_connections', `total_connections_bytes',
%% `per_connection_total_bytes', `node_rss'. `report': one text report per
%% node that answered; `cluster_report': those reports, then the cluster's
%% totals and every missing node with its reason; `seed': each node's record
%% fields with the cluster's.

-type error() :: {error, {atom(), binary()}}.
-type trend_options() :: #{min_points => non_neg_integer(),
                           min_span_hours => number(),
                           min_r_squared => number(),
                           min_growth_pct_per_hour => number()}.
%% The leak rule's thresholds (defaults 5, 0.25, 0.8, 1.0; see {@link trend/2}).

-export_type([options/0, violation/0, decomposition/0, cluster_decomposition/0,
              trend_options/0]).

%% The public function being run, with its arguments: what an explained
%% badarg names (see memacct:raise_badarg/4).
-define(U64_MAX, 18446744073709551615).
-define(FLOAT_MAX, 1.7976931348623157e308).
-define(CALL(Args), {?FUNCTION_NAME, Args}).
-type call() :: {atom(), [term()]}.

%% @doc Measures this node ({@link memacct_collect:snapshot/1}) and
%% decomposes the snapshot.
-spec decompose(options()) -> {ok, decomposition()} | error().
decompose(Opts) when is_map(Opts) ->
    %% The options are checked before the node is measured.
    NifOpts = nif_opts(Opts, ?CALL([Opts])),
    case memacct_collect:snapshot(Opts) of
        {ok, Snapshot} ->
            case decompose_json(memacct_collect:to_json(Snapshot), NifOpts) of
                {ok, D} -> {ok, D#{snapshot => Snapshot}};
                {error, _} = E -> E
            end;
        {error, _} = E ->
            E
    end;
decompose(Opts) ->
    badarg(?CALL([Opts]), 1, <<"options must be a map">>).

%% @doc Decomposes a snapshot: a map from {@link memacct_collect:snapshot/1}
%% or JSON (e.g. a file written by {@link memacct:write_snapshot/2}).
%% A snapshot the core rejects, or a map holding what JSON cannot (a pid, a
%% tuple, a key that is not an atom, binary or integer), is
%% `{error, {bad_snapshot, Message}}'.
-spec decompose_snapshot(memacct_collect:snapshot() | binary(), options()) ->
          {ok, decomposition()} | error().
decompose_snapshot(Snapshot, Opts) when is_map(Snapshot), is_map(Opts) ->
    NifOpts = nif_opts(Opts, ?CALL([Snapshot, Opts])),
    case memacct_collect:encode(Snapshot) of
        {ok, Json} -> decompose_json(Json, NifOpts);
        {error, _} = E -> E
    end;
decompose_snapshot(Json, Opts) when is_binary(Json), is_map(Opts) ->
    decompose_json(Json, nif_opts(Opts, ?CALL([Json, Opts])));
decompose_snapshot(Snapshot, Opts) when is_map(Opts) ->
    badarg(?CALL([Snapshot, Opts]), 1, <<"not a snapshot map or JSON binary">>);
decompose_snapshot(Snapshot, Opts) ->
    badarg(?CALL([Snapshot, Opts]), 2, <<"options must be a map">>).

-spec decompose_json(binary(), memacct_nif:decompose_opts()) -> {ok, decomposition()} | error().
decompose_json(Json, NifOpts) ->
    case memacct_nif:decompose_snapshot(Json, NifOpts) of
        {ok, #{violations := V} = D} -> {ok, D#{valid => V =:= []}};
        {error, _} = E -> E
    end.

%% @doc Measures every node of `Nodes' over Erlang distribution (see
%% {@link memacct_collect:cluster_snapshot/2}: `erpc', one deadline of
%% `node_timeout' ms for all; each node measures its own pids) and
%% decomposes the cluster. A node that does not answer (down, timed out, no
%% memacct loaded, or its measurement failed) is in
%% `maps:get(missing, maps:get(cluster, D))' with its reason, and in no sum.
%% memacct (beams and NIF) must be loadable on every node measured.
-spec decompose_cluster([node()], options()) -> {ok, cluster_decomposition()} | error().
decompose_cluster(Nodes, Opts) when is_list(Nodes), is_map(Opts) ->
    Call = ?CALL([Nodes, Opts]),
    case lists:all(fun is_atom/1, proper(Nodes, Call)) of
        true -> ok;
        false -> bad_nodes(Call)
    end,
    NifOpts = nif_opts(Opts, Call),
    Snapshot = memacct_collect:cluster_snapshot(Nodes, Opts),
    case memacct_nif:decompose_cluster(memacct_collect:to_json(Snapshot), NifOpts) of
        {ok, #{violations := V} = D} -> {ok, D#{valid => V =:= [], snapshot => Snapshot}};
        {error, _} = E -> E
    end;
decompose_cluster(Nodes, Opts) when is_list(Nodes) ->
    badarg(?CALL([Nodes, Opts]), 2, <<"options must be a map">>);
decompose_cluster(Nodes, Opts) ->
    bad_nodes(?CALL([Nodes, Opts])).

-spec proper(list(), call()) -> list().
proper(L, Call) ->
    try length(L) of
        _ -> L
    catch
        error:badarg -> bad_nodes(Call)
    end.

-spec bad_nodes(call()) -> no_return().
bad_nodes(Call) ->
    badarg(Call, 1, <<"not a proper list of node names (atoms)">>).

%% The options the core takes; the explained badarg of `Call' (whose last
%% argument they are) for a bad one.
-spec nif_opts(options(), call()) -> memacct_nif:decompose_opts().
nif_opts(Opts, {_Fun, Args} = Call) ->
    Pos = length(Args),
    Tol = case maps:get(tolerance, Opts, 0.05) of
              T when is_number(T), T >= 0 -> float(T);
              _ -> badarg(Call, Pos, <<"tolerance must be a non-negative number">>)
          end,
    Eps = case maps:get(epsilon, Opts, 1.0e-9) of
              E when is_number(E), E >= 0 -> float(E);
              _ -> badarg(Call, Pos, <<"epsilon must be a non-negative number">>)
          end,
    Ci = case maps:get(ci_method, Opts, student_t) of
             M when M =:= student_t; M =:= normal -> M;
             _ -> badarg(Call, Pos, <<"ci_method must be student_t or normal">>)
         end,
    {Tol, Eps, Ci}.

%% @doc The text report: of a node decomposition, or of every node of a
%% cluster decomposition followed by the cluster's totals and its missing
%% nodes with their reasons; then the validation's outcome.
-spec format_report(decomposition() | cluster_decomposition()) -> binary().
format_report(#{cluster_report := Report, violations := V}) ->
    iolist_to_binary([Report, validation_lines(V)]);
format_report(#{report := Report, violations := V}) when is_binary(Report) ->
    iolist_to_binary([Report, validation_lines(V)]);
format_report(D) ->
    badarg(?CALL([D]), 1, <<"not a decomposition (a result of decompose/1, decompose_snapshot/2 or decompose_cluster/2)">>).

-spec validation_lines([violation()]) -> iodata().
validation_lines([]) ->
    "Validation: ok (every rule holds)\n";
validation_lines(V) ->
    ["Validation: ", integer_to_list(length(V)), " violation(s)\n",
     [["  ", atom_to_binary(R), ": ", M, "\n"] || #{rule := R, message := M} <- V]].

%% @doc The compact map of a node decomposition.
-spec format_compact(decomposition()) -> map().
format_compact(#{compact := C}) ->
    C;
format_compact(D) ->
    badarg(?CALL([D]), 1, <<"not a node decomposition (a result of decompose/1 or "
                            "decompose_snapshot/2)">>).

%% @doc The decomposition (node or cluster) as JSON, every figure in bytes.
-spec to_json(decomposition() | cluster_decomposition()) -> binary().
to_json(#{json := J}) ->
    J;
to_json(D) ->
    badarg(?CALL([D]), 1, <<"not a decomposition (a result of decompose/1, decompose_snapshot/2 or decompose_cluster/2)">>).

%% @doc Distributions (count, min, max, mean, p50, p95, p99) of every
%% per-connection and per-node figure over node decompositions (repeated
%% runs, or many nodes).
-spec aggregate([decomposition()]) -> {ok, map()} | error().
aggregate(Ds) ->
    memacct_nif:decompose_aggregate(jsons(Ds, ?CALL([Ds]))).

%% The JSON of each decomposition of the proper list `Ds', the first
%% argument of `Call' (its explained badarg otherwise).
-spec jsons(term(), call()) -> [binary()].
jsons([#{json := J} | Ds], Call) when is_binary(J) ->
    [J | jsons(Ds, Call)];
jsons([], _Call) ->
    [];
jsons(_, Call) ->
    badarg(Call, 1, <<"not a proper list of decompositions">>).

%% @doc {@link trend/2} with the default leak rule.
-spec trend([decomposition()]) -> {ok, map()} | error().
trend(Ds) ->
    trend(Ds, #{}).

%% @doc Growth per hour of the RSS and of the per-connection total over
%% decompositions of one node (least squares), and `leak_suspected': at
%% least `min_points' (5) decompositions over `min_span_hours' (0.25), a
%% growth of at least `min_growth_pct_per_hour' (1.0) % of the mean per
%% hour, and a fit with R² at least `min_r_squared' (0.8).
-spec trend([decomposition()], trend_options()) -> {ok, map()} | error().
trend(Ds, Opts) when is_map(Opts) ->
    Call = ?CALL([Ds, Opts]),
    memacct_nif:decompose_trend(jsons(Ds, Call), trend_opts(Opts, Call));
trend(Ds, Opts) ->
    badarg(?CALL([Ds, Opts]), 2, <<"options must be a map">>).

%% @doc The same leak rule as {@link trend/2} on one series of any figure:
%% `Points' are `{TimestampMs, Value}' (any order; integer timestamps,
%% numeric values), `Name' names the series in the reason. Returns
%% `#{points, span_hours, fit, enough_data, leak_suspected, reason}': `fit'
%% (`undefined' with fewer than two distinct timestamps) has
%% `slope_per_hour', `intercept', `r_squared', `mean' and
%% `growth_pct_per_hour'; `enough_data' says whether there are
%% `min_points' over `min_span_hours' for a verdict; `reason' is a binary
%% or `undefined'.
-spec series_trend(unicode:unicode_binary(), [{integer(), number()}], trend_options()) ->
          map().
series_trend(Name, Points, Opts) when is_binary(Name), is_list(Points), is_map(Opts) ->
    Call = ?CALL([Name, Points, Opts]),
    Thresholds = trend_opts(Opts, Call),
    %% Everything else is checked: the NIF's badarg is about the points.
    try memacct_nif:decompose_series_trend(Name, Points, Thresholds) of
        {ok, T} -> T
    catch
        error:badarg ->
            case unicode:characters_to_binary(Name) of
                Name -> badarg(Call, 2, <<"not a proper list of {TimestampMs, Value}: "
                                          "64-bit integer timestamps, float or 64-bit "
                                          "integer values">>);
                _ -> badarg(Call, 1, <<"not UTF-8">>)
            end
    end;
series_trend(Name, Points, Opts) ->
    Call = ?CALL([Name, Points, Opts]),
    if
        not is_binary(Name) -> badarg(Call, 1, <<"not a binary">>);
        not is_list(Points) -> badarg(Call, 2, <<"not a list of {TimestampMs, Value}">>);
        true -> badarg(Call, 3, <<"options must be a map">>)
    end.

%% The leak rule's thresholds, defaults filled in; the explained badarg of
%% `Call' (whose last argument they are) for a bad value.
-spec trend_opts(trend_options(), call()) -> memacct_nif:trend_opts().
trend_opts(Opts, {_Fun, Args} = Call) ->
    Pos = length(Args),
    Num = fun(K, Def) ->
                  case maps:get(K, Opts, Def) of
                      %% (a float at most: a larger integer is no float)
                      V when is_number(V), V >= 0, V =< ?FLOAT_MAX -> float(V);
                      _ -> badarg(Call, Pos, iolist_to_binary(
                                               io_lib:format("~p must be a non-negative number",
                                                             [K])))
                  end
          end,
    Points = case maps:get(min_points, Opts, 5) of
                 P when is_integer(P), P >= 0, P =< ?U64_MAX -> P;
                 _ -> badarg(Call, Pos, <<"min_points must be an integer in 0..2^64-1">>)
             end,
    {Points, Num(min_span_hours, 0.25), Num(min_r_squared, 0.8), Num(min_growth_pct_per_hour, 1.0)}.

%% The explained badarg of the public function (see memacct:raise_badarg/4).
-spec badarg(call(), pos_integer(), binary()) -> no_return().
badarg({Fun, Args}, Pos, Why) ->
    memacct:raise_badarg(?MODULE, Fun, Args, #{Pos => Why}).
