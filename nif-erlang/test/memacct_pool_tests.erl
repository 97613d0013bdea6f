-module(memacct_pool_tests).
-include_lib("eunit/include/eunit.hrl").

new(Opts) ->
    {ok, P} = memacct_pool:new(Opts),
    P.

stale(R) ->
    ?assertMatch({error, {stale_handle, Msg}} when is_binary(Msg), R).

alive(P, H) -> memacct_pool:contains(P, H).

%%% Basics

round_trip_test() ->
    P = new(#{}),
    Values = [1, atom, <<"bin">>, #{a => 1, <<"k">> => [1.5, {x, y}]}, lists:seq(1, 500),
              make_ref(), self(), {deep, lists:duplicate(100, #{k => <<"v">>})},
              binary:copy(<<"x">>, 100000)],
    Hs = [begin {ok, H} = memacct_pool:put(P, session, V), H end || V <- Values],
    [?assertEqual({ok, V}, memacct_pool:get(P, H)) || {V, H} <- lists:zip(Values, Hs)],
    ?assertEqual(length(Values), memacct_pool:size(P)),
    ?assert(lists:all(fun(H) -> is_integer(H) andalso H > 0 end, Hs)).

compact_storage_test() ->
    P = new(#{}),
    State = #{tools => [#{name => <<"tool">>, description => binary:copy(<<"abc ">>, 50)}
                        || _ <- lists:seq(1, 20)]},
    {ok, _} = memacct_pool:put(P, session, State),
    #{bytes_stored := Stored} = memacct_pool:stats(P),
    ?assert(Stored < byte_size(term_to_binary(State)) div 4).

dictionary_test() ->
    Samples = [#{id => integer_to_binary(I), phase => initialized,
                 caps => #{tools => true, resources => false}} || I <- lists:seq(1, 40)],
    {ok, D} = memacct:train_dictionary(Samples, #{max_bytes => 4096}),
    P = new(#{dictionary => D, compress_min_bytes => 0}),
    [begin {ok, H} = memacct_pool:put(P, session, S), {ok, S} = memacct_pool:get(P, H) end
     || S <- Samples].

%% The NIF stores what memacct_pool.erl gives it (term_to_binary/1 output)
%% without parsing it again: ETF that is not a term is reported when read
%% back, and zlib-compressed ETF (which the module never makes) that is long
%% enough to be compressed is refused rather than inflated (shorter payloads
%% are stored as they are, and binary_to_term/1 reads them back).
raw_payloads_test() ->
    P = new(#{}),
    {ok, H} = memacct_nif:pool_put(P, session, <<131, 104, 2, 97>>, false, default),
    ?assertMatch({error, {invalid_value, _}}, memacct_pool:get(P, H)),
    Big = term_to_binary(lists:seq(1, 20000), [compressed]),
    <<131, 80, _/binary>> = Big,
    Put = fun(Etf) ->
                  case memacct_nif:pool_put(P, session, Etf, false, default) of
                      dirty -> memacct_nif:pool_put_dirty(P, session, Etf, false, default);
                      R -> R
                  end
          end,
    ?assertMatch({error, {inflate_limit, _}}, Put(Big)),
    Small = term_to_binary(binary:copy(<<0>>, 1000), [compressed]),
    {ok, H2} = Put(Small),
    ?assertEqual({ok, binary:copy(<<0>>, 1000)}, memacct_pool:get(P, H2)),
    ?assertEqual(2, memacct_pool:size(P)).

update_test() ->
    P = new(#{}),
    {ok, H} = memacct_pool:put(P, cache, a),
    ok = memacct_pool:update(P, H, lists:seq(1, 1000)),
    ?assertEqual({ok, lists:seq(1, 1000)}, memacct_pool:get(P, H)),
    ok = memacct_pool:update(P, H, b),
    ?assertEqual({ok, b}, memacct_pool:get(P, H)).

stale_handle_test() ->
    P = new(#{}),
    {ok, H} = memacct_pool:put(P, shared, x),
    ok = memacct_pool:release(P, H),
    stale(memacct_pool:get(P, H)),
    stale(memacct_pool:release(P, H)),
    stale(memacct_pool:update(P, H, y)),
    ?assertNot(alive(P, H)),
    %% The slot's next occupant is not reachable through the old handle.
    {ok, H2} = memacct_pool:put(P, shared, z),
    ?assertNotEqual(H, H2),
    stale(memacct_pool:get(P, H)),
    ?assertEqual({ok, z}, memacct_pool:get(P, H2)),
    %% Handles never issued.
    stale(memacct_pool:get(P, 0)),
    stale(memacct_pool:get(P, 16#FFFFFFFFFFFFFFFF)),
    stale(memacct_pool:release(P, 12345)),
    #{misses := Misses} = memacct_pool:stats(P),
    ?assert(Misses >= 2).

badarg_test_() ->
    P = new(#{}),
    {ok, H} = memacct_pool:put(P, session, v),
    Bad = [fun() -> memacct_pool:get(P, -1) end,
           fun() -> memacct_pool:get(P, 1 bsl 64) end,
           fun() -> memacct_pool:get(P, foo) end,
           fun() -> memacct_pool:get(not_a_pool, H) end,
           fun() -> memacct_pool:get(make_ref(), H) end,
           fun() -> memacct_pool:put(P, nodomain, v) end,
           fun() -> memacct_pool:put(P, "session", v) end,
           fun() -> memacct_pool:put(P, session, v, #{ttl_ms => -1}) end,
           fun() -> memacct_pool:put(P, session, v, #{bogus => 1}) end,
           fun() -> memacct_pool:put(P, session, v, []) end,
           fun() -> memacct_pool:put(self(), session, v) end,
           fun() -> memacct_pool:update(P, -5, v) end,
           fun() -> memacct_pool:release(P, 1.0) end,
           fun() -> memacct_pool:contains(P, <<>>) end,
           fun() -> memacct_pool:stats(42) end,
           fun() -> memacct_pool:size(<<>>) end,
           fun() -> memacct_pool:expire(x) end,
           fun() -> memacct_pool:clear([]) end,
           fun() -> memacct_pool:checkpoint(P, 42) end,
           fun() -> memacct_pool:checkpoint(nopool, "/tmp/x") end,
           fun() -> memacct_pool:restore("/tmp/x", nomap) end,
           fun() -> memacct_pool:new(not_a_map) end,
           fun() -> memacct_pool:new(#{max_entries => 0}) end,
           fun() -> memacct_pool:new(#{max_entries => -1}) end,
           fun() -> memacct_pool:new(#{policy => mru}) end,
           fun() -> memacct_pool:new(#{on_full => drop}) end,
           fun() -> memacct_pool:new(#{unknown => 1}) end,
           fun() -> memacct_pool:new(#{domains => #{sessions => #{}}}) end,
           fun() -> memacct_pool:new(#{domains => #{session => #{max_entries => a}}}) end,
           fun() -> memacct_pool:new(#{domains => []}) end,
           fun() -> memacct_pool:new(#{dictionary => make_ref()}) end,
           fun() -> memacct_pool:new(#{dictionary => 1}) end,
           fun() -> memacct_pool:new(#{seed => -1}) end],
    [?_assertError(badarg, F()) || F <- Bad] ++
        [?_assertEqual({ok, v}, memacct_pool:get(P, H))].

invalid_option_test() ->
    ?assertMatch({error, {invalid_option, _}}, memacct_pool:new(#{shards => 1000})),
    ?assertMatch({error, {invalid_option, _}}, memacct_pool:new(#{level => 40})),
    ?assertMatch({error, {invalid_option, _}}, memacct_pool:new(#{ttl_resolution_ms => 0})).

%%% Limits and eviction

reject_test() ->
    P = new(#{max_entries => 3, on_full => reject}),
    Hs = [element(2, memacct_pool:put(P, session, I)) || I <- [1, 2, 3]],
    ?assertMatch({error, {pool_exhausted, _}}, memacct_pool:put(P, session, 4)),
    [?assert(alive(P, H)) || H <- Hs],
    ok = memacct_pool:release(P, hd(Hs)),
    ?assertMatch({ok, _}, memacct_pool:put(P, session, 4)),
    ?assertMatch(#{rejected := 1, evicted := 0, in_use := 3}, memacct_pool:stats(P)).

evict_test() ->
    P = new(#{max_entries => 3, on_full => evict, shards => 1}),
    Hs = [element(2, memacct_pool:put(P, session, I)) || I <- [1, 2, 3]],
    {ok, H4} = memacct_pool:put(P, session, 4),
    ?assertEqual([false, true, true, true], [alive(P, H) || H <- Hs ++ [H4]]),
    ?assertMatch(#{rejected := 0, evicted := 1, in_use := 3}, memacct_pool:stats(P)).

max_bytes_test() ->
    P = new(#{max_bytes => 100, on_full => reject, compress_min_bytes => infinity}),
    {ok, _} = memacct_pool:put(P, cache, binary:copy(<<1>>, 50)),
    ?assertMatch({error, {pool_exhausted, _}}, memacct_pool:put(P, cache, binary:copy(<<1>>, 50))).

domain_limit_test() ->
    P = new(#{on_full => reject, domains => #{session => #{max_entries => 2}}}),
    {ok, _} = memacct_pool:put(P, session, 1),
    {ok, _} = memacct_pool:put(P, session, 2),
    ?assertMatch({error, {pool_exhausted, _}}, memacct_pool:put(P, session, 3)),
    ?assertMatch({ok, _}, memacct_pool:put(P, cache, 3)),
    #{domains := #{session := S, cache := C}} = memacct_pool:stats(P),
    ?assertMatch(#{entries := 2, max_entries := 2}, S),
    ?assertMatch(#{entries := 1, max_entries := none}, C).

%% Fills a one-shard pool of 3, touches it as `Touch' says, adds a 4th:
%% which of the first three are still there.
survivors(Policy, Touch) ->
    P = new(#{max_entries => 3, policy => Policy, shards => 1}),
    Hs = [element(2, memacct_pool:put(P, cache, I)) || I <- [a, b, c]],
    Touch(P, Hs),
    {ok, _} = memacct_pool:put(P, cache, d),
    [alive(P, H) || H <- Hs].

lru_test() ->
    ?assertEqual([true, false, true],
                 survivors(lru, fun(P, [A | _]) -> {ok, a} = memacct_pool:get(P, A) end)).

fifo_test() ->
    ?assertEqual([false, true, true],
                 survivors(fifo, fun(P, [A | _]) -> {ok, a} = memacct_pool:get(P, A) end)).

lfu_test() ->
    ?assertEqual([true, false, true],
                 survivors(lfu, fun(P, [A, _, C]) ->
                                        [{ok, _} = memacct_pool:get(P, A) || _ <- [1, 2]],
                                        {ok, c} = memacct_pool:get(P, C)
                                end)).

ttl_policy_test() ->
    P = new(#{max_entries => 3, policy => ttl, shards => 1}),
    {ok, A} = memacct_pool:put(P, cache, a, #{ttl_ms => 100000}),
    {ok, B} = memacct_pool:put(P, cache, b, #{ttl_ms => 10000}),
    {ok, C} = memacct_pool:put(P, cache, c, #{ttl_ms => 50000}),
    {ok, _} = memacct_pool:put(P, cache, d),
    ?assertEqual([true, false, true], [alive(P, H) || H <- [A, B, C]]).

random_test() ->
    Victims = [survivors(random, fun(_, _) -> ok end) || _ <- [1, 2, 3]],
    [V | _] = Victims,
    %% One victim, the same one for the same seed.
    ?assertEqual(2, length([x || true <- V])),
    ?assertEqual([V, V, V], Victims).

s3fifo_scan_resistance_test() ->
    Survive = fun(Policy) ->
                      P = new(#{max_entries => 20, policy => Policy, shards => 1}),
                      Hot = [element(2, memacct_pool:put(P, cache, {hot, I})) || I <- [1, 2]],
                      [{ok, _} = memacct_pool:get(P, H) || H <- Hot],
                      [{ok, _} = memacct_pool:put(P, cache, {scan, I}) || I <- lists:seq(1, 200)],
                      [alive(P, H) || H <- Hot]
              end,
    ?assertEqual([true, true], Survive(s3fifo)),
    ?assertEqual([false, false], Survive(lru)),
    ?assertEqual([false, false], Survive(fifo)).

pressure_test() ->
    P = new(#{max_entries => 10, on_full => reject}),
    Level = fun() -> maps:get(pressure, memacct_pool:stats(P)) end,
    Put = fun(N) -> [{ok, _} = memacct_pool:put(P, session, I) || I <- lists:seq(1, N)] end,
    ?assertEqual(low, Level()),
    _ = Put(5), ?assertEqual(low, Level()),
    _ = Put(1), ?assertEqual(medium, Level()),
    _ = Put(2), ?assertEqual(high, Level()),
    _ = Put(1), ?assertEqual(critical, Level()),
    ?assertEqual(low, maps:get(pressure, memacct_pool:stats(new(#{})))).

%%% TTL

ttl_expiry_test() ->
    P = new(#{default_ttl_ms => 60, ttl_resolution_ms => 10,
              domains => #{registry => #{default_ttl_ms => 100000}}}),
    {ok, A} = memacct_pool:put(P, session, a),
    {ok, B} = memacct_pool:put(P, session, b),
    {ok, C} = memacct_pool:put(P, registry, c),
    {ok, D} = memacct_pool:put(P, session, d, #{ttl_ms => infinity}),
    ?assertEqual({ok, a}, memacct_pool:get(P, A)),
    timer:sleep(120),
    stale(memacct_pool:get(P, A)),
    ?assertNot(alive(P, B)),
    ?assertEqual(1, memacct_pool:expire(P)),
    ?assertEqual({ok, c}, memacct_pool:get(P, C)),
    ?assertEqual({ok, d}, memacct_pool:get(P, D)),
    ?assertMatch(#{expired := 2, in_use := 2}, memacct_pool:stats(P)),
    ?assertEqual(0, memacct_pool:expire(P)).

%%% Ownership

owner_exit_test() ->
    P = new(#{}),
    Self = self(),
    Pid = spawn(fun() ->
                        Hs = [element(2, memacct_pool:acquire(P, session, I))
                              || I <- lists:seq(1, 10)],
                        Self ! {hs, Hs},
                        receive stop -> ok end
                end),
    Hs = receive {hs, L} -> L end,
    {ok, Mine} = memacct_pool:put(P, session, keep),
    ?assertMatch(#{in_use := 11, owners := 1}, memacct_pool:stats(P)),
    Ref = monitor(process, Pid),
    Pid ! stop,
    receive {'DOWN', Ref, _, _, _} -> ok end,
    ?assertMatch(#{in_use := 1, owners := 0, reclaimed := 10}, memacct_pool:stats(P)),
    [stale(memacct_pool:get(P, H)) || H <- Hs],
    ?assertEqual({ok, keep}, memacct_pool:get(P, Mine)).

%%% Checkpoint

checkpoint_test() ->
    Dir = tmp_dir(),
    F1 = filename:join(Dir, "a.mapc"),
    F2 = filename:join(Dir, "b.mapc"),
    P = new(#{shards => 1}),
    Values = [{I, lists:seq(1, I)} || I <- lists:seq(1, 50)],
    Hs = [element(2, memacct_pool:put(P, lists:nth(1 + I rem 5, [session, shared, registry,
                                                                   cache, ephemeral]), V))
          || {I, _} = V <- Values],
    ok = memacct_pool:release(P, lists:nth(7, Hs)),
    ?assertEqual({ok, 49}, memacct_pool:checkpoint(P, F1)),
    {ok, Q} = memacct_pool:restore(F1, #{shards => 1}),
    ?assertEqual(49, memacct_pool:size(Q)),
    Keys = [in_use, bytes_stored],
    ?assertEqual(maps:with(Keys, memacct_pool:stats(P)), maps:with(Keys, memacct_pool:stats(Q))),
    DomainCounts = fun(Pool) -> [maps:with([entries, bytes], S) || S <- maps:values(maps:get(domains, memacct_pool:stats(Pool)))] end,
    ?assertEqual(DomainCounts(P), DomainCounts(Q)),
    %% Same entries, same payloads: the restored pool checkpoints to the same bytes.
    ?assertEqual({ok, 49}, memacct_pool:checkpoint(Q, list_to_binary(F2))),
    ?assertEqual(file:read_file(F1), file:read_file(F2)),
    %% Corruption and absence.
    {ok, Bin} = file:read_file(F1),
    ok = file:write_file(F2, binary:part(Bin, 0, byte_size(Bin) - 3)),
    ?assertMatch({error, {bad_checkpoint, _}}, memacct_pool:restore(F2, #{})),
    <<H:20/binary, B, T/binary>> = Bin,
    ok = file:write_file(F2, <<H/binary, (B bxor 1), T/binary>>),
    ?assertMatch({error, {bad_checkpoint, _}}, memacct_pool:restore(F2, #{})),
    ?assertMatch({error, {io, _}}, memacct_pool:restore(filename:join(Dir, "none"), #{})),
    ?assertMatch({error, {pool_exhausted, _}},
                 memacct_pool:restore(F1, #{max_entries => 10, on_full => reject})).

%% handles/1 lists a restored pool's entries (new handles): each one reads
%% back a value of the checkpointed pool, all of them once; the old handles
%% are stale in the restored pool.
handles_after_restore_test() ->
    Dir = tmp_dir(),
    F = filename:join(Dir, "handles.mapc"),
    P = new(#{shards => 4}),
    Values = [#{id => I, data => lists:seq(1, I rem 50), big => binary:copy(<<I>>, I * 7)}
              || I <- lists:seq(1, 200)],
    Hs = [element(2, memacct_pool:put(P, session, V)) || V <- Values],
    ?assertEqual(lists:sort(Hs), lists:sort(memacct_pool:handles(P))),
    [ok = memacct_pool:release(P, H) || H <- lists:sublist(Hs, 10)],
    Live = lists:nthtail(10, Values),
    ?assertEqual(190, length(memacct_pool:handles(P))),
    ?assertEqual({ok, 190}, memacct_pool:checkpoint(P, F)),
    {ok, Q} = memacct_pool:restore(F, #{shards => 4}),
    QHs = memacct_pool:handles(Q),
    ?assertEqual(190, length(QHs)),
    ?assertEqual(length(QHs), length(lists:usort(QHs))),
    Got = [begin {ok, V} = memacct_pool:get(Q, H), V end || H <- QHs],
    ?assertEqual(lists:sort(Live), lists:sort(Got)),
    %% the checkpointed pool's handles do not name the restored entries
    [stale(memacct_pool:get(Q, H)) || H <- lists:nthtail(10, Hs), not lists:member(H, QHs)],
    ?assertEqual([], memacct_pool:handles(new(#{}))),
    ?assertError(badarg, memacct_pool:handles(not_a_pool)).

%% A handle of pool A used on pool B (same configuration, same slot) is
%% stale there, never B's entry: each pool's generations start at random.
handle_of_other_pool_is_stale_test() ->
    A = new(#{shards => 1}),
    B = new(#{shards => 1}),
    {ok, HA} = memacct_pool:put(A, session, a_value),
    {ok, HB} = memacct_pool:put(B, session, b_value),
    ?assertNotEqual(HA, HB),
    stale(memacct_pool:get(B, HA)),
    stale(memacct_pool:update(B, HA, overwritten)),
    stale(memacct_pool:release(B, HA)),
    ?assertNot(memacct_pool:contains(B, HA)),
    ?assertEqual({ok, b_value}, memacct_pool:get(B, HB)),
    ?assertEqual({ok, a_value}, memacct_pool:get(A, HA)).

%% A checkpoint of compressed entries restores only into a pool that can
%% read them back: with their dictionary (or with one when they need none).
checkpoint_dictionary_test() ->
    Dir = tmp_dir(),
    F = filename:join(Dir, "dict.mapc"),
    Train = fun(Seed) ->
                    {ok, D} = memacct:train_dictionary(
                                [#{id => integer_to_binary(I * Seed), seed => Seed, phase => initialized,
                                   caps => #{tools => true, resources => false}}
                                 || I <- lists:seq(1, 40)], #{max_bytes => 4096}),
                    D
            end,
    D1 = Train(1),
    D2 = Train(7),
    P = new(#{dictionary => D1, compress_min_bytes => 0}),
    Value = #{id => <<"42">>, seed => 1, phase => initialized},
    {ok, _} = memacct_pool:put(P, session, Value),
    ?assertEqual({ok, 1}, memacct_pool:checkpoint(P, F)),
    ?assertMatch({error, {dictionary_required, _}}, memacct_pool:restore(F, #{})),
    ?assertMatch({error, {dictionary_mismatch, _}}, memacct_pool:restore(F, #{dictionary => D2})),
    {ok, Q} = memacct_pool:restore(F, #{dictionary => D1}),
    ?assertEqual(1, memacct_pool:size(Q)),
    %% Entries compressed without a dictionary restore anywhere.
    Plain = new(#{compress_min_bytes => 0}),
    {ok, _} = memacct_pool:put(Plain, session, Value),
    ?assertEqual({ok, 1}, memacct_pool:checkpoint(Plain, F)),
    {ok, R} = memacct_pool:restore(F, #{dictionary => D2}),
    ?assertEqual(1, memacct_pool:size(R)),
    %% A payload that is neither ETF nor a blob could never be read back.
    Raw = new(#{}),
    {ok, _} = memacct_nif:pool_put(Raw, session, <<1, 2, 3>>, false, default),
    ?assertEqual({ok, 1}, memacct_pool:checkpoint(Raw, F)),
    ?assertMatch({error, {bad_blob, _}}, memacct_pool:restore(F, #{})).

tmp_dir() ->
    Dir = filename:join(["/tmp", "memacct_pool_tests_" ++ os:getpid()]),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Dir.

%%% Scheduling

large_payloads_test() ->
    P = new(#{}),
    {Copy, Decode} = memacct_pool:scheduling_limits(),
    Raw = new(#{compress_min_bytes => infinity}),
    Big = crypto:strong_rand_bytes(Copy + 10),
    {ok, H1} = memacct_pool:put(Raw, cache, Big),
    ?assertEqual({ok, Big}, memacct_pool:get(Raw, H1)),
    Mid = crypto:strong_rand_bytes(Decode + 10),
    {ok, H2} = memacct_pool:put(Raw, cache, Mid),
    ?assertEqual({ok, Mid}, memacct_pool:get(Raw, H2)),
    ok = memacct_pool:update(Raw, H2, Big),
    ?assertEqual({ok, Big}, memacct_pool:get(Raw, H2)),
    L = [#{i => I, b => integer_to_binary(I)} || I <- lists:seq(1, 200000)],
    {ok, H3} = memacct_pool:put(P, cache, L),
    ?assertEqual({ok, L}, memacct_pool:get(P, H3)),
    ok = memacct_pool:update(P, H3, lists:reverse(L)),
    ?assertEqual({ok, lists:reverse(L)}, memacct_pool:get(P, H3)).

clear_test() ->
    P = new(#{}),
    [{ok, _} = memacct_pool:put(P, session, I) || I <- lists:seq(1, 100)],
    ?assertEqual(100, memacct_pool:clear(P)),
    ?assertEqual(0, memacct_pool:size(P)),
    ?assertMatch(#{available := 100, released := 100}, memacct_pool:stats(P)).

set_limits_test() ->
    {ok, P} = memacct_pool:new(#{max_entries => 2, on_full => reject,
                                 domains => #{cache => #{max_entries => 1}}}),
    {ok, _} = memacct_pool:put(P, session, a),
    {ok, _} = memacct_pool:put(P, session, b),
    ?assertMatch({error, {pool_exhausted, _}}, memacct_pool:put(P, session, c)),
    ?assertEqual(ok, memacct_pool:set_limits(P, #{max_entries => 3})),
    ?assertMatch(#{max_entries := 3, pressure := medium}, memacct_pool:stats(P)),
    {ok, _} = memacct_pool:put(P, session, c),
    ?assertMatch({error, {pool_exhausted, _}}, memacct_pool:put(P, session, d)),
    %% A domain's own limit, and limits never configured.
    ?assertEqual(ok, memacct_pool:set_limits(P, #{domain => cache, max_entries => 2})),
    ?assertMatch(#{domains := #{cache := #{max_entries := 2}}}, memacct_pool:stats(P)),
    ?assertMatch({error, {invalid_option, _}}, memacct_pool:set_limits(P, #{max_bytes => 10})),
    ?assertError(badarg, memacct_pool:set_limits(P, #{max_entries => 0})),
    ?assertError(badarg, memacct_pool:set_limits(P, #{colour => blue})).

%% A put that must evict more entries than a normal scheduler may (here
%% ~9,400 seven-byte entries for a 64 KiB value) is finished on a dirty one:
%% the normal-scheduler NIF answers `dirty', memacct_pool:put/3 succeeds.
many_evictions_go_dirty_test() ->
    {ok, P} = memacct_pool:new(#{max_bytes => 1 bsl 20, on_full => evict,
                                 compress_min_bytes => infinity}),
    [{ok, _} = memacct_pool:put(P, cache, <<I:8>>) || I <- lists:seq(1, 160000)], % full
    Big = binary:copy(<<1>>, 64 * 1024),
    Etf = term_to_binary(Big),
    ?assertEqual(dirty, memacct_nif:pool_put(P, cache, Etf, false, default)),
    {ok, H} = memacct_pool:put(P, cache, Big),
    ?assertEqual({ok, Big}, memacct_pool:get(P, H)),
    #{bytes_stored := Bytes} = memacct_pool:stats(P),
    ?assert(Bytes =< 1 bsl 20).

%% An owner of more entries than the monitor callback releases at once:
%% the rest goes to a thread of the NIF's own, and all are gone shortly.
big_owner_is_reclaimed_in_full_test() ->
    {ok, P} = memacct_pool:new(#{}),
    Self = self(),
    Owner = spawn(fun() ->
                          [{ok, _} = memacct_pool:acquire(P, session, I) || I <- lists:seq(1, 50000)],
                          Self ! filled,
                          receive stop -> ok end
                  end),
    receive filled -> ok end,
    ?assertEqual(50000, memacct_pool:size(P)),
    Ref = monitor(process, Owner),
    exit(Owner, kill),
    receive {'DOWN', Ref, _, _, _} -> ok end,
    ?assertEqual(0, wait_empty(P, 200)).

wait_empty(P, 0) -> memacct_pool:size(P);
wait_empty(P, N) ->
    case memacct_pool:size(P) of
        0 -> 0;
        _ -> timer:sleep(5), wait_empty(P, N - 1)
    end.

%%% Explained badargs: the shell (erl_error:format_exception/3) names the
%%% public function called, with its arguments, and the argument at fault.

explained(Fun, Args, Pos) ->
    memacct_explained:raises(memacct_pool, Fun, Args, Pos,
                             fun() -> apply(memacct_pool, Fun, Args) end).

%% A NIF resource that is not a pool.
not_a_pool() ->
    {ok, D} = memacct:train_dictionary(lists:seq(1, 50), #{max_bytes => 1024}),
    D.

badarg_names_public_function_test() ->
    P = new(#{}),
    explained(new, [foo], 1),
    explained(new, [#{level => x}], 1),
    explained(new, [#{bogus => 1}], 1),
    explained(restore, ["/nonexistent/x.ckpt", nomap], 2),
    explained(put, [P, session, v, #{ttl_ms => -1}], 4),
    explained(put, [P, session, v, []], 4),
    explained(acquire, [P, session, v, #{bogus => 1}], 4),
    explained(put, [P, "session", v], 2),
    explained(get, [P, foo], 2),
    explained(release, [P, 1.0], 2),
    explained(contains, [P, <<>>], 2),
    explained(update, [P, x, v], 2),
    explained(checkpoint, [P, 42], 2).

%% Badargs that came from the NIF unexplained: an unknown domain, a
%% reference that is not a pool, a handle outside 0..2^64-1, a bad
%% set_limits domain, a dictionary that is not one.
nif_badarg_explained_test() ->
    P = new(#{max_entries => 100, domains => #{cache => #{max_entries => 10}}}),
    {ok, H} = memacct_pool:put(P, session, v),
    D = not_a_pool(),
    R = make_ref(),
    [explained(F, [P, bogus, 1], 2) || F <- [put, acquire]],
    [explained(F, [P, bogus, 1, #{}], 2) || F <- [put, acquire]],
    [explained(F, [NotPool, cache, 1], 1) || F <- [put, acquire], NotPool <- [D, R, self()]],
    [explained(F, [D, cache, 1, #{ttl_ms => 5}], 1) || F <- [put, acquire]],
    [explained(F, [P, Bad], 2) || F <- [get, release, contains], Bad <- [-1, 1 bsl 64]],
    explained(update, [P, -1, v], 2),
    explained(update, [P, 1 bsl 64, v], 2),
    [explained(F, [NotPool, H], 1) || F <- [get, release, contains], NotPool <- [D, R]],
    explained(update, [D, H, v], 1),
    [explained(F, [D], 1) || F <- [stats, size, expire, clear, handles]],
    explained(checkpoint, [D, "/nonexistent/x.ckpt"], 1),
    explained(set_limits, [P, #{domain => bogus, max_entries => 5}], 2),
    explained(set_limits, [P, #{domain => bogus}], 2),
    explained(set_limits, [P, #{max_entries => 0}], 2),
    explained(set_limits, [P, #{max_bytes => 1 bsl 64}], 2),
    explained(set_limits, [P, #{colour => blue}], 2),
    explained(set_limits, [P, foo], 2),
    explained(set_limits, [D, #{max_entries => 5}], 1),
    explained(new, [#{dictionary => P}], 1),
    explained(restore, ["/nonexistent/x.ckpt", #{dictionary => P}], 2),
    %% nothing of the above touched the pool
    ?assertEqual({ok, v}, memacct_pool:get(P, H)),
    ?assertEqual(ok, memacct_pool:set_limits(P, #{domain => cache, max_entries => 5})),
    ?assertEqual(1, memacct_pool:size(P)).

%% owned_bytes/2: a non-list, an improper list, a non-pid or a pid of
%% another node is the explained badarg of argument 2; a non-pool, of 1.
owned_bytes_badarg_explained_test() ->
    P = new(#{}),
    Remote = binary_to_term(<<131, 88, 119, 10, "nobody@far", 93:32, 0:32, 1:32>>),
    [explained(owned_bytes, [P, Bad], 2)
     || Bad <- [foo, self(), [self() | foo], [foo], [self(), 1], [Remote]]],
    explained(owned_bytes, [not_a_pool(), [self()]], 1),
    explained(owned_bytes, [make_ref(), []], 1),
    ?assertEqual({0, 0}, memacct_pool:owned_bytes(P, [self()])).
