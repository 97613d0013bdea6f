%%% @doc erlmcp's `erlmcp_memory_accounting', backed by memacct: the same
%%% functions, arities and return shapes (the `#memory_decomposition{}'
%%% record in its field order, every `*_mib' field a float), with the
%%% seed's accounting mistakes corrected.
%%%
%%% == What is corrected ==
%%% <dl>
%%% <dt>Double counting</dt><dd>The seed added the state (`erts_debug:flat_size'
%%%   of `sys:get_state/1') to the process memory, but the state lives
%%%   <em>inside</em> the process. Here `per_connection_heap_mib' is the
%%%   process memory minus the state, so heap + state = process memory;
%%%   `per_connection_total_mib' is the process memory plus the connection's
%%%   share of the refc binaries it references (bytes / holders, so a binary
%%%   shared by k processes counts once in all) plus memacct pool bytes it
%%%   owns — never process + state.</dd>
%%% <dt>"RSS"</dt><dd>The seed called `erlang:memory(total)' RSS.
%%%   {@link measure_per_node_rss/0} and `per_node_total_rss_mib' are the
%%%   OS's resident set of the node (`VmRSS' of `/proc/self/status'); the
%%%   difference to everything measured is the <em>residual</em>, reported
%%%   (signed) instead of hidden. Base overhead = everything accounted
%%%   (`erlang:memory(total)' + allocator free space + native pools) minus
%%%   the connections' bytes, so RSS = base overhead + connections × total +
%%%   residual exactly.</dd>
%%% <dt>Dead nodes</dt><dd>The seed counted a node that did not answer as
%%%   0 MiB. {@link measure_cluster_total/1} returns an error naming the
%%%   missing nodes (with the bytes of those that answered), and a cluster
%%%   decomposition sums the nodes that answered and counts only them in
%%%   `cluster_nodes'.</dd>
%%% <dt>Validation</dt><dd>The seed stopped at the first failed rule;
%%%   {@link validate_decomposition/1} returns every violated rule, each with
%%%   its figures.</dd>
%%% <dt>Cost and dead pids</dt><dd>The seed called `sys:get_state/1' (5 s
%%%   timeout, crashing on a dead pid) and `flat_size' for every connection.
%%%   {@link decompose/1} measures every process's memory in one batched
%%%   pass, sizes states on a random sample (`sample', default 200) with a
%%%   per-call timeout (`state_timeout', default 1000 ms), and skips dead
%%%   pids (counted, not crashed on). The state figure is thus an estimate;
%%%   {@link decompose_full/1} gives its 95% confidence interval.</dd>
%%% </dl>
%%%
%%% `measured_pids' is the number of connection processes measured (alive);
%%% `connections' too (the seed's count of connections given includes dead
%%% ones; the memacct result has both).
-module(erlmcp_memory_accounting).

-include("erlmcp_memory_accounting.hrl").

-export([measure_per_connection_heap/1, measure_per_connection_state/1,
         measure_per_node_rss/0, measure_per_node_base_overhead/1,
         measure_cluster_total/1,
         decompose/1, decompose_full/1,
         validate_decomposition/1, validate_decomposition/2,
         format_report/1, format_compact/1,
         get_connection_process_info/1, estimate_state_size/1,
         aggregate_measurements/1]).

-compile(warn_missing_spec_all).

-type bytes() :: non_neg_integer().
-type mib() :: float().
%% Mebibytes (2^20 bytes), as the record's `*_mib' fields.
-type memory_decomposition() :: #memory_decomposition{}.
-type violation() :: memacct_decompose:violation().

-export_type([bytes/0, mib/0, memory_decomposition/0]).

-define(MIB, 1048576).
-define(STATE_TIMEOUT, 5000).
-define(RPC_TIMEOUT, 5000).

%%% ---------------------------------------------------------------------------
%%% Measurements of one thing

%% @doc The process memory of a connection (`process_info(P, memory)'):
%% stack, young and old heap, mailbox and process control block. The state
%% is inside it (do not add {@link measure_per_connection_state/1} to it).
%% `{error, process_not_alive}' for a dead pid (as erlmcp), `{error,
%% not_local}' for a pid of another node (erlmcp raised `badarg').
-spec measure_per_connection_heap(pid()) -> {ok, bytes()} | {error, term()}.
measure_per_connection_heap(Pid) when is_pid(Pid), node(Pid) =:= node() ->
    case erlang:process_info(Pid, memory) of
        {memory, M} -> {ok, M};
        undefined -> {error, process_not_alive}
    end;
measure_per_connection_heap(Pid) when is_pid(Pid) ->
    {error, not_local};
measure_per_connection_heap(_) ->
    {error, badarg}.

%% @doc The connection's state size in bytes: `sys:get_state/2' (5 s
%% timeout, as erlmcp) sized exactly by {@link memacct:flat_size/1} (the
%% words `erts_debug:flat_size/1' reports) × word size. As erlmcp, any
%% failure is `{error, {state_access_failed, Reason}}' with what
%% `sys:get_state/2' raised: e.g. `{timeout, _}' when the process does not
%% answer, `{noproc, _}' when it is dead, `{callback_failed, _, _}' when its
%% `system_get_state' raises.
-spec measure_per_connection_state(pid()) -> {ok, bytes()} | {error, term()}.
measure_per_connection_state(Pid) when is_pid(Pid) ->
    try sys:get_state(Pid, ?STATE_TIMEOUT) of
        State -> {ok, estimate_state_size(State)}
    catch
        _:Reason -> {error, {state_access_failed, Reason}}
    end;
measure_per_connection_state(_) ->
    {error, badarg}.

%% @doc The OS resident set of this node, in bytes (`VmRSS'; Linux). Not
%% `erlang:memory(total)'. Elsewhere `{error, {rss_unavailable, Msg}}'.
-spec measure_per_node_rss() -> {ok, bytes()} | {error, term()}.
measure_per_node_rss() ->
    memacct_collect:os_rss().

%% @doc The node's base overhead in bytes: everything accounted (BEAM
%% total, allocator free space, native pools) minus the connections' bytes.
%% The map takes the seed's `server_pid', `registry_pid' and
%% `supervisor_pids' and, to subtract them, `connection_pids' (without it
%% every process is overhead).
-spec measure_per_node_base_overhead(map()) -> {ok, bytes()} | {error, term()}.
measure_per_node_base_overhead(Opts) when is_map(Opts) ->
    Full = Opts#{connection_pids => maps:get(connection_pids, Opts, []), sample => 0},
    case memacct_decompose:decompose(Full) of
        {ok, #{decomposition := #{per_node := #{base_overhead_bytes := B}}}} ->
            {ok, max(0, round(B))};
        {error, _} = E ->
            E
    end.

%% @doc The sum of the OS resident sets of `Nodes' (this node included if
%% listed), in bytes. Each remote node's `/proc/self/status' is read over
%% `erpc' (no memacct needed there). A node that does not answer in 5 s is
%% not counted as 0: the result is then `{error, {missing_nodes,
%% [{Node, Reason}], BytesOfTheOthers}}'.
-spec measure_cluster_total([node()]) ->
          {ok, bytes()} | {error, {missing_nodes, [{node(), term()}], bytes()}}.
measure_cluster_total(Nodes) when is_list(Nodes) ->
    Results = [{N, node_rss(N)} || N <- lists:usort(Nodes)],
    Total = lists:sum([B || {_, {ok, B}} <- Results]),
    case [{N, Why} || {N, {error, Why}} <- Results] of
        [] -> {ok, Total};
        Missing -> {error, {missing_nodes, Missing, Total}}
    end.

-spec node_rss(node()) -> {ok, bytes()} | {error, term()}.
node_rss(N) when N =:= node() ->
    memacct_collect:os_rss();
node_rss(N) ->
    try erpc:call(N, file, read_file, ["/proc/self/status"], ?RPC_TIMEOUT) of
        {ok, Status} ->
            case re:run(Status, <<"^VmRSS:\\s*(\\d+)\\s*kB">>,
                        [multiline, {capture, [1], binary}]) of
                {match, [Kb]} -> {ok, binary_to_integer(Kb) * 1024};
                nomatch -> {error, rss_unavailable}
            end;
        {error, Reason} ->
            {error, {rss_unavailable, Reason}}
    catch
        error:{erpc, Why} -> {error, Why};
        Class:Why -> {error, {Class, Why}}
    end.

%%% ---------------------------------------------------------------------------
%%% Decomposition

%% @doc The decomposition record (see the module documentation for the
%% corrected meanings). Options: the seed's `connection_pids' (required),
%% `server_pid', `registry_pid', `supervisor_pids', `cluster_nodes', plus
%% any option of {@link memacct_decompose:options()} (`sample',
%% `state_timeout', `tolerance', `pool', ...). With `cluster_nodes' (other
%% than this node alone), every listed node is measured over `erpc' (memacct
%% must be loaded there); the cluster figures count the nodes that answered.
%% Raises `{memacct, Reason}' when this node cannot be measured (e.g. no
%% `/proc').
-spec decompose(map()) -> memory_decomposition().
decompose(Opts) ->
    {Record, _Full} = decompose_full(Opts),
    Record.

%% @doc {@link decompose/1} plus memacct's full result (every figure in
%% bytes, the state's confidence interval, the residual, every violated
%% rule, the text report).
-spec decompose_full(map()) ->
          {memory_decomposition(),
           memacct_decompose:decomposition() | memacct_decompose:cluster_decomposition()}.
decompose_full(Opts) when is_map(Opts) ->
    MOpts = maps:without([cluster_nodes], Opts#{connection_pids => maps:get(connection_pids, Opts, [])}),
    case [N || N <- maps:get(cluster_nodes, Opts, []), N =/= node()] of
        [] ->
            case memacct_decompose:decompose(MOpts) of
                {ok, #{seed := Seed} = Full} -> {record(Seed), Full};
                {error, Reason} -> erlang:error({memacct, Reason}, [Opts])
            end;
        Others ->
            case memacct_decompose:decompose_cluster([node() | Others], MOpts) of
                {ok, #{seed := Seeds} = Full} ->
                    Me = atom_to_binary(node(), utf8),
                    case lists:keyfind(Me, 1, Seeds) of
                        {Me, Seed} -> {record(Seed), Full};
                        false -> erlang:error({memacct, {node_not_measured, Full}}, [Opts])
                    end;
                {error, Reason} ->
                    erlang:error({memacct, Reason}, [Opts])
            end
    end;
decompose_full(Opts) ->
    erlang:error(badarg, [Opts]).

-spec record(map()) -> memory_decomposition().
record(#{per_conn_heap_mib := Heap, per_conn_state_mib := State,
         per_conn_total_mib := Total, per_node_base_overhead_mib := Base,
         per_node_total_rss_mib := Rss, per_node_process_count := Procs,
         connections := Conns, cluster_nodes := CNodes,
         cluster_total_rss_mib := CRss, scope_per_node := SNode,
         scope_per_cluster := SCluster, timestamp_ms := Ts, node := Node,
         measured_pids := Measured}) ->
    #memory_decomposition{per_connection_heap_mib = float(Heap),
                          per_connection_state_mib = float(State),
                          per_connection_total_mib = float(Total),
                          per_node_base_overhead_mib = float(Base),
                          per_node_total_rss_mib = float(Rss),
                          per_node_process_count = Procs,
                          connections = Conns,
                          cluster_nodes = CNodes,
                          cluster_total_rss_mib = float(CRss),
                          scope_per_node = SNode,
                          scope_per_cluster = SCluster,
                          timestamp = Ts,
                          node = binary_to_atom(Node, utf8),
                          measured_pids = Measured}.

%%% ---------------------------------------------------------------------------
%%% Validation

%% @doc {@link validate_decomposition/2} with a residual tolerance of 5% of RSS.
-spec validate_decomposition(memory_decomposition()) -> ok | {error, [violation()]}.
validate_decomposition(D) ->
    validate_decomposition(D, #{}).

%% @doc Every violated rule of the record (not only the first), each as
%% `#{rule, message, figures}' (figures in MiB):
%% <dl>
%% <dt>`record_shape'</dt><dd>every `*_mib' field a float, counts
%%   non-negative integers, scopes booleans;</dd>
%% <dt>`non_negative'</dt><dd>every `*_mib' field ≥ 0 (a negative heap means
%%   a state larger than its process);</dd>
%% <dt>`per_connection_total_identity'</dt><dd>heap + state ≤ total (equal
%%   when the connections hold no refc binary and no pool slot; the state
%%   is inside the process, never added to it);</dd>
%% <dt>`node_rss_covers_connections'</dt><dd>RSS ≥ base overhead +
%%   connections × total − tolerance × RSS − connections × heap (seed rule
%%   2, with the residual's tolerance and the allowance below);</dd>
%% <dt>`residual_within_tolerance'</dt><dd>−(tolerance × RSS + connections
%%   × heap) ≤ RSS − base overhead − connections × total ≤ tolerance ×
%%   RSS.</dd>
%% </dl>
%% The allowance `connections × heap' on the negative side: the figures are
%% what the BEAM allocated, and a process's heap beyond its state may be
%% allocated and not yet written, which the OS does not count in RSS
%% (measured: 10,000 simulated connections, each ~18 KiB of process memory
%% holding ~5 KiB of state, left a residual of −11.5% of RSS, inside the
%% measured bound of unwritten memory). The record cannot say how much was unwritten;
%% {@link decompose_full/1} validates with the measured bound instead
%% (sampled heap reserve plus carrier free space). Also:
%% <dl>
%% <dt>`cluster_total_ge_nodes'</dt><dd>cluster RSS ≥ this node's RSS
%%   (seed rule 3: missing nodes are not zeros, so only nodes that
%%   answered are in either figure);</dd>
%% <dt>`cluster_node_count'</dt><dd>at least one node; one when the scope is
%%   not the cluster.</dd>
%% </dl>
%% Option `tolerance' (default 0.05).
-spec validate_decomposition(memory_decomposition(), #{tolerance => number()}) ->
          ok | {error, [violation()]}.
validate_decomposition(#memory_decomposition{} = D, Opts) ->
    Tol = maps:get(tolerance, Opts, 0.05),
    case shape(D) of
        [] ->
            case rules(D, Tol) of
                [] -> ok;
                Vs -> {error, Vs}
            end;
        Vs ->
            {error, Vs}
    end;
validate_decomposition(Other, _Opts) ->
    {error, [#{rule => record_shape, message => <<"not a #memory_decomposition{} record">>,
               figures => #{}, value => Other}]}.

-spec shape(memory_decomposition()) -> [violation()].
shape(#memory_decomposition{} = D) ->
    Fields = record_info(fields, memory_decomposition),
    Values = tl(tuple_to_list(D)),
    [#{rule => record_shape,
       message => iolist_to_binary(io_lib:format("~p is ~0p, expected ~s", [F, V, Want])),
       figures => #{}}
     || {F, V} <- lists:zip(Fields, Values),
        {Ok, Want} <- [field_ok(F, V)], not Ok].

-spec field_ok(atom(), term()) -> {boolean(), string()}.
field_ok(F, V) when F =:= scope_per_node; F =:= scope_per_cluster ->
    {is_boolean(V), "a boolean"};
field_ok(node, V) ->
    {is_atom(V), "an atom"};
field_ok(measured_pids, V) when is_list(V) ->
    %% erlmcp's record held the pids themselves
    {lists:all(fun erlang:is_pid/1, V), "a non-negative integer or a list of pids"};
field_ok(F, V) ->
    case lists:suffix("_mib", atom_to_list(F)) of
        true -> {is_float(V), "a float"};
        false -> {is_integer(V) andalso V >= 0, "a non-negative integer"}
    end.

-spec rules(memory_decomposition(), number()) -> [violation()].
rules(#memory_decomposition{per_connection_heap_mib = Heap, per_connection_state_mib = State,
                            per_connection_total_mib = Total,
                            per_node_base_overhead_mib = Base, per_node_total_rss_mib = Rss,
                            connections = Conns, cluster_nodes = CNodes,
                            cluster_total_rss_mib = CRss, scope_per_cluster = SCluster} = D,
      Tol) ->
    Eps = 1.0e-9,
    Fields = record_info(fields, memory_decomposition),
    Mibs = [{F, V} || {F, V} <- lists:zip(Fields, tl(tuple_to_list(D))),
                      lists:suffix("_mib", atom_to_list(F))],
    Negative = [v(non_negative, io_lib:format("~p is negative: ~.6f MiB", [F, V]), #{F => V})
                || {F, V} <- Mibs, V < 0],
    Conn = Conns * Total,
    Residual = Rss - Base - Conn,
    Unwritten = Conns * max(0.0, Heap),
    Le = fun(A, B) -> A =< B + Eps * max(1.0, max(abs(A), abs(B))) end,
    Checks =
        [{not Le(Heap + State, Total), per_connection_total_identity,
          io_lib:format("heap ~.6f + state ~.6f = ~.6f MiB exceeds the per-connection total ~.6f MiB "
                        "(the state is inside the process memory)", [Heap, State, Heap + State, Total]),
          #{per_connection_heap_mib => Heap, per_connection_state_mib => State,
            per_connection_total_mib => Total}},
         {not Le(Base + Conn - Tol * Rss - Unwritten, Rss), node_rss_covers_connections,
          io_lib:format("RSS ~.3f MiB < base overhead ~.3f + ~B connections x ~.6f MiB = ~.3f MiB "
                        "beyond the tolerance of ~.1f% and the connections' heap beyond their "
                        "state (~.3f MiB)",
                        [Rss, Base, Conns, Total, Base + Conn, Tol * 100, Unwritten]),
          #{per_node_total_rss_mib => Rss, per_node_base_overhead_mib => Base,
            connections_mib => Conn, unwritten_allowance_mib => Unwritten}},
         {Residual > Tol * Rss + Eps orelse Residual < -(Tol * Rss + Unwritten) - Eps,
          residual_within_tolerance,
          io_lib:format("residual ~.3f MiB (RSS - base overhead - connections) is outside "
                        "-(~.1f% of RSS ~.3f MiB + ~.3f MiB of connection heap) .. +~.1f% of RSS",
                        [Residual, Tol * 100, Rss, Unwritten, Tol * 100]),
          #{residual_mib => Residual, per_node_total_rss_mib => Rss, tolerance => float(Tol),
            unwritten_allowance_mib => Unwritten}},
         {not Le(Rss, CRss), cluster_total_ge_nodes,
          io_lib:format("cluster total RSS ~.3f MiB is below this node's RSS ~.3f MiB", [CRss, Rss]),
          #{cluster_total_rss_mib => CRss, per_node_total_rss_mib => Rss}},
         {CNodes < 1 orelse (not SCluster andalso CNodes =/= 1), cluster_node_count,
          io_lib:format("cluster_nodes is ~B with scope_per_cluster ~p", [CNodes, SCluster]),
          #{cluster_nodes => float(CNodes)}}],
    Negative ++ [v(Rule, Msg, Figs) || {true, Rule, Msg, Figs} <- Checks].

-spec v(atom(), iodata(), map()) -> violation().
v(Rule, Msg, Figs) ->
    #{rule => Rule, message => iolist_to_binary(Msg), figures => Figs}.

%%% ---------------------------------------------------------------------------
%%% Reports

%% @doc The seed's text report, with the corrected labels and the residual.
-spec format_report(memory_decomposition()) -> binary().
format_report(#memory_decomposition{} = D) ->
    #memory_decomposition{per_connection_heap_mib = Heap, per_connection_state_mib = State,
                          per_connection_total_mib = Total,
                          per_node_base_overhead_mib = Base, per_node_total_rss_mib = Rss,
                          per_node_process_count = Procs, connections = Conns,
                          cluster_nodes = CNodes, cluster_total_rss_mib = CRss,
                          scope_per_node = SNode, scope_per_cluster = SCluster,
                          timestamp = Ts, node = Node, measured_pids = Measured} = D,
    Expected = Base + Conns * Total,
    iolist_to_binary(
      io_lib:format(
        "=== MEMORY DECOMPOSITION REPORT ===~n"
        "Timestamp: ~B~n"
        "Node: ~p~n~n"
        "--- Per-Connection Memory (Average) ---~n"
        "  Heap (process - state):   ~.6f MiB~n"
        "  State (inside process):   ~.6f MiB  (sampled estimate)~n"
        "  Total per connection:     ~.6f MiB  (process + off-heap share + native)~n~n"
        "--- Per-Node Memory ---~n"
        "  Base overhead (infra):    ~.3f MiB  (accounted - connections)~n"
        "  Total RSS (OS view):      ~.3f MiB  (VmRSS, not erlang:memory(total))~n"
        "  Process count:            ~B~n"
        "  Active connections:       ~B  (measured pids ~B)~n~n"
        "--- Cluster Memory ---~n"
        "  Cluster nodes:            ~B  (nodes that answered)~n"
        "  Cluster total RSS:        ~.3f MiB~n~n"
        "--- Scope Indicators ---~n"
        "  Per-node scope:           ~p~n"
        "  Per-cluster scope:        ~p~n~n"
        "--- Calculations ---~n"
        "  Expected node memory:     ~.3f MiB (overhead + conn*total)~n"
        "  Actual node RSS:          ~.3f MiB~n"
        "  Residual:                 ~.3f MiB (~.2f% of RSS)~n"
        "=== END REPORT ===~n",
        [Ts, Node, Heap, State, Total, Base, Rss, Procs, Conns, count(Measured), CNodes, CRss,
         SNode, SCluster, Expected, Rss, Rss - Expected, pct(Rss - Expected, Rss)]));
format_report(D) ->
    erlang:error(badarg, [D]).

%% `measured_pids': a count (memacct) or the pids (erlmcp's records).
-spec count(non_neg_integer() | [pid()]) -> non_neg_integer().
count(L) when is_list(L) -> length(L);
count(N) -> N.

-spec pct(float(), float()) -> float().
pct(_, Total) when Total == 0 -> 0.0;
pct(Part, Total) -> 100 * Part / Total.

%% @doc The seed's compact map (same keys, corrected meanings), plus
%% `per_node_residual_mib'.
-spec format_compact(memory_decomposition()) -> map().
format_compact(#memory_decomposition{} = D) ->
    #memory_decomposition{per_connection_heap_mib = Heap, per_connection_state_mib = State,
                          per_connection_total_mib = Total,
                          per_node_base_overhead_mib = Base, per_node_total_rss_mib = Rss,
                          connections = Conns, cluster_nodes = CNodes,
                          cluster_total_rss_mib = CRss, scope_per_node = SNode,
                          scope_per_cluster = SCluster} = D,
    #{per_connection_heap_mib => Heap,
      per_connection_state_mib => State,
      per_connection_total_mib => Total,
      per_node_base_overhead_mib => Base,
      per_node_total_rss_mib => Rss,
      per_node_residual_mib => Rss - Base - Conns * Total,
      connections => Conns,
      cluster_nodes => CNodes,
      cluster_total_rss_mib => CRss,
      scope_per_node => SNode,
      scope_per_cluster => SCluster};
format_compact(D) ->
    erlang:error(badarg, [D]).

%%% ---------------------------------------------------------------------------
%%% Utilities

%% @doc A connection process's figures: `memory' (bytes), `heap_size',
%% `total_heap_size', `stack_size' (words, as `process_info' gives them),
%% `message_queue_len', `reductions', `off_heap_binary_bytes' (refc binaries
%% it references) and `word_size'. A dead pid gives `#{pid, alive => false}'.
-spec get_connection_process_info(pid()) -> map().
get_connection_process_info(Pid) when is_pid(Pid), node(Pid) =:= node() ->
    Keys = [memory, heap_size, total_heap_size, stack_size, message_queue_len,
            reductions, binary],
    case erlang:process_info(Pid, Keys) of
        undefined ->
            #{pid => Pid, alive => false};
        Info ->
            M = maps:from_list(Info),
            Bins = lists:sum([S || {_, S, _} <- lists:ukeysort(1, maps:get(binary, M))]),
            (maps:remove(binary, M))#{pid => Pid, alive => true,
                                      off_heap_binary_bytes => Bins,
                                      word_size => erlang:system_info(wordsize)}
    end;
get_connection_process_info(Pid) ->
    erlang:error(badarg, [Pid]).

%% @doc The exact size in bytes a term takes on a process heap once copied:
%% `erts_debug:flat_size/1' words (computed by memacct) × word size. Not an
%% estimate, despite the seed's name; refc binary payloads are off-heap and
%% not included (see {@link memacct:term_size/1}).
-spec estimate_state_size(term()) -> bytes().
estimate_state_size(Term) ->
    memacct:flat_size(Term) * erlang:system_info(wordsize).

%% @doc Statistics over decompositions (e.g. repeated benchmark runs):
%% `count', and for each figure (`per_connection_heap_mib',
%% `per_connection_state_mib', `per_connection_total_mib',
%% `per_node_base_overhead_mib', `per_node_total_rss_mib',
%% `cluster_total_rss_mib') its `min', `max', `avg' (the seed's key),
%% `p50', `p95' and `p99' (memacct's core summary: linear interpolation
%% between closest ranks); the per-connection ones also under erlmcp's keys
%% `heap_mib', `state_mib' and `total_mib'. An empty list gives
%% `#{error => no_measurements}' (as erlmcp).
-spec aggregate_measurements([memory_decomposition()]) -> map().
aggregate_measurements([]) ->
    #{error => no_measurements};
aggregate_measurements(Ds) when is_list(Ds) ->
    Keys = [{per_connection_heap_mib, #memory_decomposition.per_connection_heap_mib},
            {per_connection_state_mib, #memory_decomposition.per_connection_state_mib},
            {per_connection_total_mib, #memory_decomposition.per_connection_total_mib},
            {per_node_base_overhead_mib, #memory_decomposition.per_node_base_overhead_mib},
            {per_node_total_rss_mib, #memory_decomposition.per_node_total_rss_mib},
            {cluster_total_rss_mib, #memory_decomposition.cluster_total_rss_mib}],
    Summaries = maps:from_list([{K, summary([float(element(I, D)) || D <- Ds])} || {K, I} <- Keys]),
    %% erlmcp's keys for the per-connection figures, and the full names.
    #{per_connection_heap_mib := Heap, per_connection_state_mib := State,
      per_connection_total_mib := Total} = Summaries,
    Summaries#{count => length(Ds), heap_mib => Heap, state_mib => State, total_mib => Total};
aggregate_measurements(Ds) ->
    erlang:error(badarg, [Ds]).

%% min, max, avg (erlmcp's key) and mean, p50, p95, p99 (core's summary).
-spec summary([float()]) -> map().
summary(Xs) ->
    {ok, S} = memacct_nif:decompose_summary(Xs),
    #{mean := Mean} = S,
    maps:remove(count, S#{avg => Mean}).
