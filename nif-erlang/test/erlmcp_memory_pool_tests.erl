-module(erlmcp_memory_pool_tests).
-include_lib("eunit/include/eunit.hrl").

pool_test_() ->
    {foreach,
     fun() ->
             ok = erlmcp_memory_pool:stop(),
             application:set_env(erlmcp, memory_pool_size, 100),
             application:set_env(erlmcp, memory_pool_max_size, 5),
             {ok, Pid} = erlmcp_memory_pool:start_link(),
             unlink(Pid),
             Pid
     end,
     fun(_) ->
             ok = erlmcp_memory_pool:stop(),
             application:unset_env(erlmcp, memory_pool_size),
             application:unset_env(erlmcp, memory_pool_max_size)
     end,
     [fun acquire_get_release/1, fun stats_shape/1, fun max_size/1, fun buffers/1,
      fun info_and_configure/1, fun owner_exit/1, fun survives_restart/1,
      fun not_started/1, fun erlmcp_refs_and_huge_values/1,
      fun adopted_pool_takes_the_env_limit/1, fun stray_messages/1]}.

acquire_get_release(_) ->
    Data = #{id => <<"conn-1">>, phase => initialization, caps => #{tools => true}},
    {ok, Ref} = erlmcp_memory_pool:acquire_connection_state(Data),
    R1 = erlmcp_memory_pool:get_connection_state(Ref),
    ok = erlmcp_memory_pool:update_connection_state(Ref, Data#{phase => initialized}),
    R2 = erlmcp_memory_pool:get_connection_state(Ref),
    ok = erlmcp_memory_pool:release_connection_state(Ref),
    ok = erlmcp_memory_pool:release_connection_state(Ref),
    [?_assertEqual({ok, Data}, R1),
     ?_assertEqual({ok, Data#{phase => initialized}}, R2),
     ?_assertMatch({error, {stale_handle, _}}, erlmcp_memory_pool:get_connection_state(Ref)),
     ?_assertError(function_clause, erlmcp_memory_pool:acquire_connection_state(not_a_map))].

stats_shape(_) ->
    S0 = erlmcp_memory_pool:pool_stats(),
    Refs = [element(2, erlmcp_memory_pool:acquire_connection_state(#{i => I}))
            || I <- lists:seq(1, 4)],
    S1 = erlmcp_memory_pool:pool_stats(),
    [ok = erlmcp_memory_pool:release_connection_state(R) || R <- Refs],
    Refs2 = [element(2, erlmcp_memory_pool:acquire_connection_state(#{i => I}))
             || I <- lists:seq(1, 4)],
    S2 = erlmcp_memory_pool:pool_stats(),
    [ok = erlmcp_memory_pool:release_connection_state(R) || R <- Refs2],
    [?_assertEqual(lists:sort([in_use, available, total_allocated, reused, created, reuse_ratio]),
                   lists:sort(maps:keys(S0))),
     ?_assertMatch(#{in_use := 0, reuse_ratio := 0.0}, S0),
     ?_assertMatch(#{in_use := 4, created := 4, reused := 0, total_allocated := 4}, S1),
     ?_assertMatch(#{in_use := 4, created := 4, reused := 4, available := 0}, S2),
     %% a percentage, as the seed's `reuse_ratio => 97.3' and `< 70'
     ?_assertEqual(50.0, maps:get(reuse_ratio, S2)),
     ?_assertEqual(0.5, maps:get(reuse_ratio, maps:get(pool, erlmcp_memory_pool:pool_info())))].

%% The seed's example: reused 45234, created 1234 -> 97.3 (one decimal).
reuse_ratio_percent_test() ->
    ok = erlmcp_memory_pool:stop(),
    {ok, Pid} = erlmcp_memory_pool:start_link(),
    unlink(Pid),
    try
        %% 1 created, then 2 reused: 66.7 %, below the seed's alert at 70
        {ok, R1} = erlmcp_memory_pool:acquire_connection_state(#{}),
        ok = erlmcp_memory_pool:release_connection_state(R1),
        {ok, R2} = erlmcp_memory_pool:acquire_connection_state(#{}),
        ok = erlmcp_memory_pool:release_connection_state(R2),
        {ok, R3} = erlmcp_memory_pool:acquire_connection_state(#{}),
        ok = erlmcp_memory_pool:release_connection_state(R3),
        Stats = erlmcp_memory_pool:pool_stats(),
        ?assertMatch(#{created := 1, reused := 2, reuse_ratio := 66.7}, Stats),
        ?assert(maps:get(reuse_ratio, Stats) < 70)
    after
        ok = erlmcp_memory_pool:stop()
    end.

max_size(_) ->
    Refs = [erlmcp_memory_pool:acquire_connection_state(#{i => I}) || I <- lists:seq(1, 6)],
    %% Message buffers do not count against the connection-state maximum.
    Buf = erlmcp_memory_pool:acquire_message_buffer(10),
    [?_assertMatch([{ok, _}, {ok, _}, {ok, _}, {ok, _}, {ok, _},
                    {error, {pool_exhausted, _}}], Refs),
     ?_assertMatch({ok, _, _}, Buf)].

buffers(_) ->
    {ok, R1, B1} = erlmcp_memory_pool:acquire_message_buffer(100),
    {ok, R2, B2} = erlmcp_memory_pool:acquire_message_buffer(100000),
    #{in_use := InUse} = erlmcp_memory_pool:pool_stats(),
    ok = erlmcp_memory_pool:release_message_buffer(R1),
    ok = erlmcp_memory_pool:release_message_buffer(R2),
    ok = erlmcp_memory_pool:release_message_buffer(R2),
    [?_assertEqual(65536, byte_size(B1)),
     ?_assertEqual(100000, byte_size(B2)),
     ?_assertEqual(<<0:800000>>, B2),
     ?_assertEqual(2, InUse),
     ?_assertMatch(#{in_use := 0}, erlmcp_memory_pool:pool_stats())].

info_and_configure(_) ->
    I0 = erlmcp_memory_pool:pool_info(),
    C = [erlmcp_memory_pool:configure(pool_size, 5000),
         erlmcp_memory_pool:configure(max_pool_size, 20000),
         erlmcp_memory_pool:configure(pool_size, 0),
         erlmcp_memory_pool:configure(colour, blue)],
    I1 = erlmcp_memory_pool:pool_info(),
    [?_assertMatch(#{connection_pool := #{pool_size := 100, max_size := 5,
                                          effective_max_size := 5, queue_length := _},
                     buffer_pool := #{buffer_size := 65536},
                     ets_table := #{size := _, memory_bytes := _},
                     stats := #{in_use := _, available := _, total_allocated := _,
                                reused := _, created := _},
                     pool := #{policy := lru}}, I0),
     ?_assertEqual([ok, ok, {error, invalid_config}, {error, invalid_config}], C),
     %% A new maximum applies to the running pool at once.
     ?_assertMatch(#{connection_pool := #{pool_size := 5000, max_size := 20000,
                                          effective_max_size := 20000}}, I1)].

owner_exit(_) ->
    Self = self(),
    Pid = spawn(fun() ->
                        {ok, R} = erlmcp_memory_pool:acquire_connection_state(#{a => 1}),
                        {ok, _, _} = erlmcp_memory_pool:acquire_message_buffer(1),
                        Self ! {ref, R},
                        receive stop -> ok end
                end),
    R = receive {ref, X} -> X end,
    #{in_use := Before} = erlmcp_memory_pool:pool_stats(),
    exit(Pid, kill),
    Mon = monitor(process, Pid),
    receive {'DOWN', Mon, _, _, _} -> ok end,
    [?_assertEqual(2, Before),
     ?_assertMatch(#{in_use := 0}, erlmcp_memory_pool:pool_stats()),
     ?_assertMatch({error, {stale_handle, _}}, erlmcp_memory_pool:get_connection_state(R))].

survives_restart(Pid) ->
    {ok, R} = erlmcp_memory_pool:acquire_connection_state(#{keep => me}),
    Mon = monitor(process, Pid),
    exit(Pid, kill),
    receive {'DOWN', Mon, _, _, _} -> ok end,
    Acquire = erlmcp_memory_pool:acquire_connection_state(#{while => down}),
    {ok, Pid2} = erlmcp_memory_pool:start_link(),
    unlink(Pid2),
    [?_assertMatch({ok, _}, Acquire),
     ?_assertEqual({ok, #{keep => me}}, erlmcp_memory_pool:get_connection_state(R))].

%% What erlmcp accepted must not crash the caller or the pool's process.
erlmcp_refs_and_huge_values(Pid) ->
    Before = erlmcp_memory_pool:pool_stats(),
    R = [erlmcp_memory_pool:release_connection_state(make_ref()),
         erlmcp_memory_pool:release_message_buffer(make_ref()),
         %% beyond 2^64 - 1: the largest limit there is (it killed the process)
         erlmcp_memory_pool:configure(max_pool_size, 1 bsl 64),
         %% 1 bsl 40 zeroed bytes stopped the VM; 1 bsl 62 left an entry behind
         erlmcp_memory_pool:acquire_message_buffer(1 bsl 40),
         erlmcp_memory_pool:acquire_message_buffer(1 bsl 62)],
    [?_assertMatch([ok, ok, ok, {error, {buffer_too_large, _}}, {error, {buffer_too_large, _}}], R),
     ?_assert(is_process_alive(Pid)),
     ?_assertMatch(#{connection_pool := #{max_size := 1 bsl 64,
                                          effective_max_size := 16#FFFFFFFFFFFFFFFF}},
                   erlmcp_memory_pool:pool_info()),
     ?_assertEqual(maps:get(in_use, Before), maps:get(in_use, erlmcp_memory_pool:pool_stats()))].

%% A restarted process adopts the pool (states stay) and applies the
%% environment's maximum to it: pool_info/0 and the pool agree.
adopted_pool_takes_the_env_limit(Pid) ->
    Mon = monitor(process, Pid),
    exit(Pid, kill),
    receive {'DOWN', Mon, _, _, _} -> ok end,
    application:set_env(erlmcp, memory_pool_max_size, 2),
    {ok, Pid2} = erlmcp_memory_pool:start_link(),
    unlink(Pid2),
    Refs = [erlmcp_memory_pool:acquire_connection_state(#{i => I}) || I <- lists:seq(1, 3)],
    [?_assertMatch(#{connection_pool := #{max_size := 2, effective_max_size := 2}},
                   erlmcp_memory_pool:pool_info()),
     ?_assertMatch([{ok, _}, {ok, _}, {error, {pool_exhausted, _}}], Refs)].

%% gen_server's default handle_info/2 also keeps the process alive (it logs
%% "Undefined handle_info"): what fails without the callbacks is their
%% export, checked too.
stray_messages(Pid) ->
    Pid ! {some, stray, message},
    Info = erlmcp_memory_pool:pool_info(),
    [?_assertMatch(#{connection_pool := _}, Info),
     ?_assert(is_process_alive(Pid)),
     ?_assertEqual([true, true, true],
                   [erlang:function_exported(erlmcp_memory_pool, F, A)
                    || {F, A} <- [{handle_info, 2}, {terminate, 2}, {code_change, 3}]])].

not_started(_) ->
    ok = erlmcp_memory_pool:stop(),
    R = [erlmcp_memory_pool:acquire_connection_state(#{}),
         erlmcp_memory_pool:acquire_message_buffer(1),
         erlmcp_memory_pool:release_connection_state(1),
         erlmcp_memory_pool:get_connection_state(1)],
    [?_assertEqual([{error, not_started}, {error, not_started}, ok, {error, not_started}], R),
     ?_assertExit({noproc, _}, erlmcp_memory_pool:pool_stats()),
     ?_assertExit({noproc, _}, erlmcp_memory_pool:pool_info())].

%% After stop/0 and a new start_link/0 the pool is a new one: a ref of the
%% old pool is an error, never the state of the connection that now holds
%% its slot.
old_ref_after_stop_start_test() ->
    ok = erlmcp_memory_pool:stop(),
    {ok, Pid1} = erlmcp_memory_pool:start_link(),
    unlink(Pid1),
    try
        {ok, Old} = erlmcp_memory_pool:acquire_connection_state(#{conn => old}),
        ok = erlmcp_memory_pool:stop(),
        {ok, Pid2} = erlmcp_memory_pool:start_link(),
        unlink(Pid2),
        %% the new pool's first state may well take the slot the old ref named
        {ok, New} = erlmcp_memory_pool:acquire_connection_state(#{conn => new}),
        ?assertMatch({error, {stale_handle, _}}, erlmcp_memory_pool:get_connection_state(Old)),
        ?assertMatch({error, {stale_handle, _}},
                     erlmcp_memory_pool:update_connection_state(Old, #{conn => hijacked})),
        ok = erlmcp_memory_pool:release_connection_state(Old),
        ?assertEqual({ok, #{conn => new}}, erlmcp_memory_pool:get_connection_state(New))
    after
        ok = erlmcp_memory_pool:stop()
    end.
