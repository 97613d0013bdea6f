-module(memacct_pool_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, suite/0]).
-export([owner_crash_reclaims_at_once/1, million_cycles_return_to_baseline/1,
         concurrent_processes_reconcile/1, many_owners_die_together/1,
         normal_scheduler_calls_are_short/1]).

suite() -> [{timetrap, {minutes, 10}}].

all() ->
    [owner_crash_reclaims_at_once, million_cycles_return_to_baseline,
     concurrent_processes_reconcile, many_owners_die_together,
     normal_scheduler_calls_are_short].

%% A process acquires N entries and is killed: its entries are gone by the
%% time its 'DOWN' reaches us (the NIF monitor fires first, in the exit).
owner_crash_reclaims_at_once(_Config) ->
    {ok, P} = memacct_pool:new(#{}),
    N = 10000,
    Self = self(),
    Pid = spawn(fun() ->
                        Hs = [begin {ok, H} = memacct_pool:acquire(P, session, {s, I}), H end
                              || I <- lists:seq(1, N)],
                        Self ! {hs, Hs},
                        receive never -> ok end
                end),
    Hs = receive {hs, L} -> L end,
    #{in_use := N, owners := 1, bytes_allocated := Full} = memacct_pool:stats(P),
    Mon = monitor(process, Pid),
    exit(Pid, kill),
    receive {'DOWN', Mon, process, Pid, killed} -> ok end,
    #{in_use := 0, owners := 0, reclaimed := N, released := N,
      bytes_stored := 0, bytes_allocated := After} = memacct_pool:stats(P),
    ?assert(After < Full),
    [{error, {stale_handle, _}} = memacct_pool:get(P, H) || H <- Hs],
    ct:pal("~B entries reclaimed on kill; bytes_allocated ~B -> ~B", [N, Full, After]).

%% 1M put/release cycles (owned and not, varying sizes) end where they started.
million_cycles_return_to_baseline(_Config) ->
    {ok, P} = memacct_pool:new(#{}),
    Cycle = fun Loop(0) -> ok;
                Loop(I) ->
                    V = case I rem 4 of
                            0 -> I;
                            1 -> {conn, I, <<"session">>};
                            2 -> lists:seq(1, I rem 300);
                            3 -> #{id => I, data => binary:copy(<<"ab">>, I rem 200)}
                        end,
                    {ok, H} = case I rem 2 of
                                  0 -> memacct_pool:put(P, session, V);
                                  1 -> memacct_pool:acquire(P, ephemeral, V)
                              end,
                    ok = memacct_pool:release(P, H),
                    Loop(I - 1)
            end,
    %% Baseline: after one round of the same mix (slabs, owner index and
    %% policy arrays at their steady sizes).
    ok = Cycle(1000),
    #{bytes_allocated := Base, native_allocated_bytes := NativeBase, shards := Shards} =
        memacct_pool:stats(P),
    T0 = erlang:monotonic_time(),
    ok = Cycle(1000000),
    Us = erlang:convert_time_unit(erlang:monotonic_time() - T0, native, microsecond),
    #{bytes_allocated := End, in_use := 0, bytes_stored := 0, reuse_ratio := R,
      native_allocated_bytes := NativeEnd} = memacct_pool:stats(P),
    ct:pal("1M put/release cycles in ~B ms; bytes_allocated ~B -> ~B; jemalloc allocated "
           "~B -> ~B; reuse_ratio ~.6f", [Us div 1000, Base, End, NativeBase, NativeEnd, R]),
    %% The process may move to another scheduler, whose shard then makes its
    %% first slot (a one-off of a few hundred bytes per shard); a leak of even
    %% one byte per cycle would show as a megabyte.
    ?assert(End - Base =< 4096 * Shards, {Base, End}),
    ?assert(NativeEnd - NativeBase =< 65536 * Shards, {NativeBase, NativeEnd}),
    ?assert(R > 0.99 andalso R =< 1.0).

%% 5,000 processes acquire, read and release concurrently; every count
%% reconciles exactly with the stats, and no handle is issued twice.
concurrent_processes_reconcile(_Config) ->
    {ok, P} = memacct_pool:new(#{}),
    NProcs = 5000,
    PerProc = 40,
    Keep = 10,
    Self = self(),
    Pids = [spawn_link(fun() -> worker(P, Self, W, PerProc, Keep) end)
            || W <- lists:seq(1, NProcs)],
    [Self ! go || _ <- [x]],
    [Pid ! go || Pid <- Pids],
    Results = [receive {done, Pid, Kept, Errors} -> {Kept, Errors} end || Pid <- Pids],
    AllKept = lists:append([K || {K, _} <- Results]),
    Errors = lists:sum([E || {_, E} <- Results]),
    ?assertEqual(0, Errors),
    ?assertEqual(NProcs * Keep, length(AllKept)),
    ?assertEqual(length(AllKept), length(lists:usort([H || {H, _} <- AllKept]))),
    S = memacct_pool:stats(P),
    #{in_use := InUse, created := Created, reused := Reused, released := Released,
      hits := Hits, misses := 0, owners := NProcs} = S,
    ?assertEqual(NProcs * Keep, InUse),
    ?assertEqual(NProcs * PerProc, Created + Reused),
    ?assertEqual(NProcs * (PerProc - Keep), Released),
    ?assertEqual(NProcs * PerProc, Hits),
    %% Every kept entry holds what its process put there.
    [{ok, V} = memacct_pool:get(P, H) || {H, V} <- AllKept],
    %% Then they all exit: everything they kept is reclaimed.
    [Pid ! exit || Pid <- Pids],
    wait_until(fun() -> maps:get(in_use, memacct_pool:stats(P)) =:= 0 end, 5000),
    ?assertMatch(#{owners := 0, reclaimed := InUse}, memacct_pool:stats(P)),
    ct:pal("~B processes x ~B: ~p", [NProcs, PerProc, maps:with([created, reused, released, reclaimed], memacct_pool:stats(P))]).

worker(P, Parent, W, PerProc, Keep) ->
    receive go -> ok end,
    Hs = [begin
              V = {W, I, integer_to_binary(W * 1000 + I)},
              {ok, H} = memacct_pool:acquire(P, session, V),
              {H, V}
          end || I <- lists:seq(1, PerProc)],
    Errors = length([x || {H, V} <- Hs, memacct_pool:get(P, H) =/= {ok, V}]),
    {Kept, Drop} = lists:split(Keep, Hs),
    Errors2 = length([x || {H, _} <- Drop, memacct_pool:release(P, H) =/= ok]),
    Parent ! {done, self(), Kept, Errors + Errors2},
    receive exit -> ok end.

%% 2,000 owners killed at the same moment: all reclaimed, no survivors.
many_owners_die_together(_Config) ->
    {ok, P} = memacct_pool:new(#{max_entries => 100000, on_full => reject}),
    Self = self(),
    Pids = [spawn(fun() ->
                          [{ok, _} = memacct_pool:acquire(P, session, I) || I <- lists:seq(1, 20)],
                          Self ! ready,
                          receive never -> ok end
                  end) || _ <- lists:seq(1, 2000)],
    [receive ready -> ok end || _ <- Pids],
    #{in_use := 40000} = memacct_pool:stats(P),
    [exit(Pid, kill) || Pid <- Pids],
    wait_until(fun() -> maps:get(in_use, memacct_pool:stats(P)) =:= 0 end, 5000),
    ?assertMatch(#{owners := 0, reclaimed := 40000, pressure := low}, memacct_pool:stats(P)).

%% The normal-scheduler path stays short at its largest payloads.
normal_scheduler_calls_are_short(_Config) ->
    {ok, P} = memacct_pool:new(#{}),
    {ok, Raw} = memacct_pool:new(#{compress_min_bytes => infinity}),
    {Copy, Decode} = memacct_pool:scheduling_limits(),
    Cases = [{raw_copy_limit, Raw, crypto:strong_rand_bytes(Copy - 64)},
             {raw_decode_limit, Raw, [X || <<X:32>> <= crypto:strong_rand_bytes(Decode - 64)]},
             {state_list, P, [memacct_sim:connection_state(I) || I <- lists:seq(1, 8)]}],
    [begin
         Etf = term_to_binary(V),
         PutNormal = memacct_nif:pool_put(Pool, cache, Etf, false, default),
         {PutUs, R} = best(fun() -> memacct_nif:pool_put(Pool, cache, Etf, false, default) end),
         {GetUs, _} = case R of
                          {ok, H} -> best(fun() -> memacct_nif:pool_get(Pool, H) end);
                          dirty -> {0, dirty}
                      end,
         ct:pal("~p: ~B ETF bytes, put ~p (~B us), get ~B us",
                [Name, byte_size(Etf), case PutNormal of dirty -> dirty; _ -> normal end,
                 PutUs, GetUs]),
         ?assert(PutUs < 2000),
         ?assert(GetUs < 2000)
     end || {Name, Pool, V} <- Cases].

best(F) ->
    lists:min([timer:tc(F) || _ <- lists:seq(1, 11)]).

wait_until(F, Ms) when Ms =< 0 -> ?assert(F());
wait_until(F, Ms) ->
    case F() of
        true -> ok;
        false -> timer:sleep(10), wait_until(F, Ms - 10)
    end.
