%%% @doc The demo's flow at a small size: `make demo' works end to end in CI.
-module(memacct_demo_tests).

-include_lib("eunit/include/eunit.hrl").

demo_flow_test_() ->
    {timeout, 120,
     fun() ->
             Self = self(),
             R = memacct_demo:measure(300, fun(Step, Done, Total) -> Self ! {p, Step, Done, Total}, ok end),
             #{before := B, 'after' := A, pool_stats := PS, etf_bytes := Etf, connections := 300} = R,
             %% progress reached the end of both steps
             ?assert(got({p, start, 300, 300})),
             ?assert(got({p, compact, 300, 300})),
             CB = maps:get(per_connection, maps:get(decomposition, B)),
             CA = maps:get(per_connection, maps:get(decomposition, A)),
             %% the pool's per-connection total (process + native) is below the on-heap one
             ?assert(maps:get(total_bytes, CA) < maps:get(total_bytes, CB)),
             %% before: no native bytes; after: the pool's bytes, counted once per owner
             ?assertEqual(0.0, float(maps:get(native_bytes, CB))),
             ?assert(maps:get(native_bytes, CA) > 0),
             ?assert(abs(maps:get(native_bytes, CA) * 300 - maps:get(bytes_stored, PS)) < 1.0),
             %% totals are the sum of their parts (no double counting)
             [?assert(abs(maps:get(process_bytes, C) + maps:get(off_heap_share_bytes, C)
                          + maps:get(native_bytes, C) - maps:get(total_bytes, C)) < 1.0e-6)
              || C <- [CB, CA]],
             %% the state left the heap: after, it is a handle
             ?assert(maps:get(mean, maps:get(state, CA)) < 200),
             ?assertMatch(#{in_use := 300, owners := 300}, PS),
             %% compact: smaller than ETF and than the heap state
             ?assert(maps:get(bytes_stored, PS) < Etf),
             %% the table renders; snapshots write and read back
             ?assert(iolist_size(memacct_demo:table(R, 300)) > 0),
             Dir = filename:join(["/tmp", "memacct_demo_test_" ++ os:getpid()]),
             ok = filelib:ensure_dir(filename:join(Dir, "x")),
             File = filename:join(Dir, "after.json"),
             ok = memacct:write_snapshot(File, maps:get(snapshot, A)),
             {ok, Json} = file:read_file(File),
             ?assertMatch({ok, _}, memacct_decompose:decompose_snapshot(Json, #{})),
             ok = file:delete(File),
             %% the connections were stopped (and the pool reclaimed their entries)
             ?assertEqual([], [P || P <- processes(),
                                    {dictionary, D} <- [process_info(P, dictionary)],
                                    {'$initial_call', {memacct_sim, _, _}} <- D])
     end}.

got(Msg) ->
    receive Msg -> true after 0 -> false end.
