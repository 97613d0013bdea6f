%%% @doc EUnit tests of the erlmcp_memory_accounting drop-in: the record's
%%% shape (field order, floats), validation reporting every violation, the
%%% reports, the utilities; and of memacct_collect's JSON encoder.
-module(erlmcp_memory_accounting_tests).

-include_lib("eunit/include/eunit.hrl").
-include("erlmcp_memory_accounting.hrl").

-define(M, erlmcp_memory_accounting).

-export([raising_sys_process/0, system_get_state/1, system_continue/3, system_terminate/4]).

%% The design.md order.
record_field_order_test() ->
    ?assertEqual([per_connection_heap_mib, per_connection_state_mib, per_connection_total_mib,
                  per_node_base_overhead_mib, per_node_total_rss_mib, per_node_process_count,
                  connections, cluster_nodes, cluster_total_rss_mib, scope_per_node,
                  scope_per_cluster, timestamp, node, measured_pids],
                 record_info(fields, memory_decomposition)),
    ?assertEqual(memory_decomposition, element(1, #memory_decomposition{})),
    ?assertEqual(15, tuple_size(#memory_decomposition{})).

live_record_shape_test_() ->
    {timeout, 60,
     fun() ->
             Pids = memacct_sim:start_connections(200),
             try
                 R = ?M:decompose(#{connection_pids => Pids}),
                 {memory_decomposition, Heap, State, Total, Base, Rss, Procs, Conns, CNodes,
                  CRss, SNode, SCluster, Ts, Node, Measured} = R,
                 [?assert(is_float(F)) || F <- [Heap, State, Total, Base, Rss, CRss]],
                 [?assert(is_integer(I)) || I <- [Procs, Conns, CNodes, Ts, Measured]],
                 ?assertEqual({200, 200, 1, true, false, node()},
                              {Conns, Measured, CNodes, SNode, SCluster, Node}),
                 %% no double counting: heap + state = total (no binaries, no pool)
                 ?assert(abs(Heap + State - Total) < 1.0e-12),
                 ?assertEqual(Rss, CRss),
                 %% the state is not zero: it was measured
                 ?assert(State > 0.0),
                 %% every *_mib float also for an empty set of connections
                 E = ?M:decompose(#{connection_pids => []}),
                 ?assertMatch(#memory_decomposition{per_connection_heap_mib = 0.0,
                                                    per_connection_state_mib = 0.0,
                                                    per_connection_total_mib = 0.0,
                                                    connections = 0}, E),
                 ?assert(is_float(E#memory_decomposition.per_node_base_overhead_mib))
             after
                 memacct_sim:stop_connections(Pids)
             end
     end}.

good() ->
    #memory_decomposition{per_connection_heap_mib = 0.01, per_connection_state_mib = 0.01,
                          per_connection_total_mib = 0.02, per_node_base_overhead_mib = 50.0,
                          per_node_total_rss_mib = 250.0, per_node_process_count = 10100,
                          connections = 10000, cluster_nodes = 1,
                          cluster_total_rss_mib = 250.0, timestamp = 1, node = 'a@b',
                          measured_pids = 10000}.

validate_ok_test() ->
    ?assertEqual(ok, ?M:validate_decomposition(good())),
    %% a record as erlmcp built it: measured_pids holds the pids
    Erlmcp = (good())#memory_decomposition{measured_pids = [self()]},
    ?assertEqual(ok, ?M:validate_decomposition(Erlmcp)),
    ?assertNotEqual(nomatch, binary:match(?M:format_report(Erlmcp), <<"measured pids 1)">>)).

%% RSS below what the BEAM allocated: accepted down to the tolerance plus
%% the connections' heap beyond their state (allocated, maybe unwritten),
%% not further.
validate_negative_residual_test() ->
    Low = fun(Rss) -> (good())#memory_decomposition{per_node_total_rss_mib = Rss,
                                                    cluster_total_rss_mib = Rss} end,
    %% residual -50 MiB: beyond 5% of RSS, within 5% + 10000 x 0.01 MiB
    ?assertEqual(ok, ?M:validate_decomposition(Low(200.0))),
    %% residual -130 MiB: beyond 6 + 100 MiB
    {error, Vs} = ?M:validate_decomposition(Low(120.0)),
    ?assertEqual([node_rss_covers_connections, residual_within_tolerance],
                 [R || #{rule := R} <- Vs]),
    %% the positive side keeps the plain tolerance
    {error, Vs2} = ?M:validate_decomposition(Low(300.0)),
    ?assertEqual([residual_within_tolerance], [R || #{rule := R} <- Vs2]).

%% A process whose system_get_state raises is counted as a failure, never
%% crashes (or hangs) the caller; a pid of another node in the seed's
%% options is an error, not a crash over a link.
collector_robustness_test_() ->
    {timeout, 30,
     fun() ->
             {ok, SP} = proc_lib:start(?MODULE, raising_sys_process, []),
             try
                 ?assertMatch({error, {state_access_failed, {callback_failed, _, _}}},
                              ?M:measure_per_connection_state(SP)),
                 Caller = fun(Trap) ->
                                  Self = self(),
                                  {P, Mon} = spawn_monitor(
                                               fun() ->
                                                       process_flag(trap_exit, Trap),
                                                       R = (catch ?M:decompose(#{connection_pids => [SP]})),
                                                       Self ! {self(), R}
                                               end),
                                  receive
                                      {P, R} -> erlang:demonitor(Mon, [flush]), R;
                                      {'DOWN', Mon, process, P, Why} -> {caller_died, Why}
                                  after 20000 -> caller_hangs
                                  end
                          end,
                 [?assertMatch(#memory_decomposition{connections = 1}, Caller(T))
                  || T <- [false, true]],
                 %% NEW_PID_EXT of a pid on node 'nobody@far'
                 Remote = binary_to_term(<<131, 88, 119, 10, "nobody@far", 93:32, 0:32, 1:32>>),
                 ?assertNotEqual(node(), node(Remote)),
                 [?assertError({memacct, {invalid_option, _}}, ?M:decompose(O))
                  || O <- [#{connection_pids => [], server_pid => Remote},
                           #{connection_pids => [], registry_pid => Remote},
                           #{connection_pids => [], supervisor_pids => [Remote]}]],
                 ?assertMatch({error, {invalid_option, _}},
                              ?M:measure_per_node_base_overhead(#{supervisor_pids => [Remote]}))
             after
                 exit(SP, kill)
             end
     end}.

%% memacct_collect's workers: a crash fails the collection with a typed
%% error and leaves no message behind (a worker's result raced the kill:
%% 550 strays in 20,000 runs before); a killed caller takes its workers
%% with it (they went on for the whole state timeout).
collector_workers_test_() ->
    {timeout, 60,
     fun() ->
             Run = fun() ->
                           Funs = [fun() -> I end || I <- lists:seq(1, 8)]
                               ++ [fun() -> exit(boom) end],
                           try memacct_collect:in_parallel(Funs) of
                               R -> {unexpected, R}
                           catch
                               throw:{memacct_collect, worker_failed, Msg} -> {failed, Msg}
                           end
                   end,
             [?assertMatch({failed, _}, Run()) || _ <- lists:seq(1, 3000)],
             ?assertEqual({messages, []}, process_info(self(), messages)),
             ?assertEqual([1, 2, 3], memacct_collect:in_parallel([fun() -> N end || N <- [1, 2, 3]])),
             Self = self(),
             Caller = spawn(fun() ->
                                    memacct_collect:in_parallel(
                                      [fun() -> Self ! {worker, self()}, timer:sleep(60000) end
                                       || _ <- [1, 2]])
                            end),
             Workers = [receive {worker, W} -> W end || _ <- [1, 2]],
             exit(Caller, kill),
             Mons = [monitor(process, W) || W <- Workers],
             [receive {'DOWN', M, process, _, _} -> ok after 2000 -> ?assert(false) end
              || M <- Mons]
     end}.

%% A special process (proc_lib + sys) whose system_get_state/1 raises.
raising_sys_process() ->
    proc_lib:init_ack({ok, self()}),
    sys_loop().

sys_loop() ->
    receive
        {system, From, Req} -> sys:handle_system_msg(Req, From, undefined, ?MODULE, [], undefined)
    end.

system_get_state(_) -> erlang:error(boom).
system_continue(_, _, _) -> sys_loop().
system_terminate(Reason, _, _, _) -> exit(Reason).

%% Every broken rule is reported, not the first.
validate_reports_every_violation_test() ->
    Bad = (good())#memory_decomposition{per_connection_heap_mib = -0.01,
                                        per_connection_state_mib = 0.05,
                                        per_node_total_rss_mib = 100.0,
                                        cluster_total_rss_mib = 90.0},
    {error, Vs} = ?M:validate_decomposition(Bad),
    Rules = [R || #{rule := R} <- Vs],
    ?assertEqual([non_negative, per_connection_total_identity, node_rss_covers_connections,
                  residual_within_tolerance, cluster_total_ge_nodes], Rules),
    [?assert(is_binary(M)) || #{message := M} <- Vs],
    %% a state larger than the process alone:
    {error, Vs2} = ?M:validate_decomposition((good())#memory_decomposition{
                                                 per_connection_state_mib = 0.02}),
    ?assertEqual([per_connection_total_identity], [R || #{rule := R} <- Vs2]).

validate_shape_test() ->
    {error, [#{rule := record_shape} | _]} =
        ?M:validate_decomposition((good())#memory_decomposition{per_connection_heap_mib = 0}),
    {error, [#{rule := record_shape}]} = ?M:validate_decomposition(not_a_record),
    %% tolerance option
    Off = (good())#memory_decomposition{per_node_total_rss_mib = 300.0,
                                        cluster_total_rss_mib = 300.0},
    {error, [#{rule := residual_within_tolerance}]} = ?M:validate_decomposition(Off),
    ok = ?M:validate_decomposition(Off, #{tolerance => 0.2}).

format_compact_test() ->
    C = ?M:format_compact(good()),
    ?assertEqual(lists:sort([per_connection_heap_mib, per_connection_state_mib,
                             per_connection_total_mib, per_node_base_overhead_mib,
                             per_node_total_rss_mib, per_node_residual_mib, connections,
                             cluster_nodes, cluster_total_rss_mib, scope_per_node,
                             scope_per_cluster]), lists:sort(maps:keys(C))),
    ?assertEqual(0.02, maps:get(per_connection_total_mib, C)),
    ?assert(abs(maps:get(per_node_residual_mib, C)) < 1.0e-9).

format_report_test() ->
    R = ?M:format_report(good()),
    ?assert(is_binary(R)),
    [?assertNotEqual(nomatch, binary:match(R, P))
     || P <- [<<"=== MEMORY DECOMPOSITION REPORT ===">>, <<"Total RSS (OS view)">>,
              <<"Residual:">>, <<"=== END REPORT ===">>, <<"a@b">>]].

aggregate_test() ->
    A = ?M:aggregate_measurements([good(), (good())#memory_decomposition{
                                               per_connection_heap_mib = 0.03}]),
    #{count := 2, per_connection_heap_mib := #{min := 0.01, max := 0.03, avg := Avg,
                                                p50 := P50}} = A,
    ?assert(abs(Avg - 0.02) < 1.0e-12),
    ?assert(abs(P50 - 0.02) < 1.0e-12),
    %% erlmcp's keys too, and its answer for no measurements
    #{heap_mib := #{min := 0.01, max := 0.03}, state_mib := #{avg := _},
      total_mib := #{avg := _}} = A,
    ?assertEqual(#{error => no_measurements}, ?M:aggregate_measurements([])).

utilities_test() ->
    T = #{a => [1, 2, 3], b => <<"xyz">>},
    ?assertEqual(erts_debug:flat_size(T) * erlang:system_info(wordsize), ?M:estimate_state_size(T)),
    Dead = spawn(fun() -> ok end),
    Ref = monitor(process, Dead),
    receive {'DOWN', Ref, process, Dead, _} -> ok end,
    %% erlmcp's error terms
    ?assertEqual({error, process_not_alive}, ?M:measure_per_connection_heap(Dead)),
    ?assertMatch({error, {state_access_failed, {noproc, _}}}, ?M:measure_per_connection_state(Dead)),
    ?assertEqual(#{pid => Dead, alive => false}, ?M:get_connection_process_info(Dead)),
    #{alive := true, memory := Mem, off_heap_binary_bytes := _} =
        ?M:get_connection_process_info(self()),
    ?assert(Mem > 0),
    {ok, Rss} = ?M:measure_per_node_rss(),
    ?assert(Rss > erlang:memory(processes)),
    {ok, Rss2} = ?M:measure_cluster_total([node()]),
    ?assert(Rss2 > 0),
    {error, {missing_nodes, [{'nobody@nowhere', _}], _}} =
        ?M:measure_cluster_total(['nobody@nowhere']),
    {ok, Base} = ?M:measure_per_node_base_overhead(#{server_pid => self()}),
    ?assert(Base > 0).

%% memacct_collect's JSON encoder.
json_test() ->
    J = fun memacct_collect:to_json/1,
    ?assertEqual(<<"{\"a\":[1,2.5,\"x\\\"y\"],\"b\":null}">>,
                 J(#{a => [1, 2.5, <<"x\"y">>], b => null})),
    ?assertEqual(<<"[true,false,null,\"atom\",-3,0.0]">>, J([true, false, undefined, atom, -3, 0.0])),
    ?assertEqual(<<"\"\\\\\\n\\t\\u0001\">>">>, <<(J(<<"\\\n\t", 1>>))/binary, ">>">>),
    ?assertEqual(<<"\"caf", 16#c3, 16#a9, "\"">>, J(<<"caf", 16#c3, 16#a9>>)),
    ?assertEqual(<<"{}">>, J(#{})),
    ?assertEqual(<<"[]">>, J([])),
    ?assertError({not_json, _}, J({tuple})).

snapshot_options_test() ->
    ?assertMatch({error, {invalid_option, _}}, memacct_collect:snapshot(#{})),
    ?assertMatch({error, {invalid_option, _}},
                 memacct_collect:snapshot(#{connection_pids => [self()], sample => -1})),
    ?assertMatch({error, {invalid_option, _}},
                 memacct_collect:snapshot(#{connection_pids => [not_a_pid]})),
    {ok, S} = memacct_collect:snapshot(#{connection_pids => {erlang, processes, []},
                                         sample => 0, rss_bytes => 12345}),
    ?assertMatch(#{os := #{rss_bytes := 12345}}, S),
    {ok, D} = memacct_decompose:decompose_snapshot(S, #{}),
    %% a tiny RSS is far below what the BEAM has: reported, not hidden
    ?assertMatch(#{valid := false}, D),
    ?assert(lists:member(residual_within_tolerance,
                         [R || #{rule := R} <- maps:get(violations, D)])).

%% What the collector adds for "allocated is not resident": the heap
%% reserve of the connections (a process that grew its heap has one), the
%% RSS split and the emulator flavor, and the mseg cache figures.
resident_figures_test() ->
    Grown = spawn(fun() -> _ = lists:seq(1, 20000), receive stop -> ok end end),
    timer:sleep(50),
    {ok, S} = memacct_collect:snapshot(#{connection_pids => [Grown], sample => 0,
                                         heap_reserve => all}),
    %% by default, estimated from the state sample (here: that one process)
    {ok, S1} = memacct_collect:snapshot(#{connection_pids => [Grown], sample => 1}),
    ?assertMatch(#{connections := #{heap_reserve_sample := [_]}}, S1),
    ?assertMatch({error, {invalid_option, _}},
                 memacct_collect:snapshot(#{connection_pids => [Grown], heap_reserve => some})),
    exit(Grown, kill),
    #{connections := #{heap_reserve_bytes_total := Reserve, process_bytes_total := Proc},
      os := Os, emu_flavor := Flavor, allocators := #{cached_segments := Cached}} = S,
    ?assert(Reserve > 0 andalso Reserve < Proc),
    ?assert(lists:member(Flavor, [<<"jit">>, <<"emu">>])),
    #{rss_bytes := Rss, rss_anon_bytes := Anon, rss_file_bytes := File,
      rss_shmem_bytes := Shmem} = Os,
    ?assertEqual(Rss, Anon + File + Shmem),
    ?assert(is_integer(Cached) andalso Cached >= 0),
    %% waits at most the timeout (the cache may refill on a busy node)
    T0 = erlang:monotonic_time(millisecond),
    case memacct_collect:await_cached_segments(300) of
        {ok, Waited} -> ?assert(Waited =< 400);
        {timeout, Left} -> ?assert(Left > 0)
    end,
    ?assert(erlang:monotonic_time(millisecond) - T0 < 1000),
    {ok, D} = memacct_decompose:decompose_snapshot(S, #{}),
    #{decomposition := #{per_node := #{os_mapped_bytes := Mapped,
                                       unwritten_bound_bytes := Unwritten},
                         counts := #{heap_reserve_sample_size := 1}}} = D,
    ?assert(Mapped >= File andalso Mapped =< File + Shmem),
    ?assert(Unwritten >= Reserve).
