%%% Binaries and bitstrings as the VM holds them: sized from their header
%%% words, never copied. Every shape the VM makes (heap, refc of any size,
%%% aligned and unaligned sub-binaries, bitstrings) against
%%% erts_debug:flat_size/1; huge unaligned slices on a normal scheduler;
%%% dirty walks that stop when their caller exits; lists the NIFs refuse.
-module(memacct_binary_tests).
-include_lib("eunit/include/eunit.hrl").

%% Appending makes a refc binary whatever its size (a ProcBin of 6 words).
appended(N) ->
    lists:foldl(fun(X, A) -> <<A/binary, X>> end, <<>>, lists:seq(1, N)).

slices() ->
    Big = binary:copy(<<7>>, 1000),
    Small = binary:copy(<<7>>, 40),
    [begin <<_:Off, X:Len/bitstring, _/bitstring>> = Src, X end
     || Src <- [Big, Small], Off <- [0, 1, 7, 8, 9],
        Len <- [0, 3, 8, 13, 100, 200, 519, 520, 521, 7000],
        Off + Len =< bit_size(Src)].

every_binary_shape_is_exact_test() ->
    Cases = [appended(N) || N <- [1, 40, 64, 65, 100]]
        ++ [<<>>, <<1, 2, 3>>, binary:copy(<<7>>, 1000), <<1:3>>, <<1:11>>]
        ++ slices(),
    Wrong = [{bit_size(C), erts_debug:flat_size(T), memacct:flat_size(T)}
             || C <- Cases, T <- [C, {C, [C, C]}],
                erts_debug:flat_size(T) =/= memacct:flat_size(T)],
    ?assertEqual([], Wrong).

refc_binaries_count_their_bytes_off_heap_test() ->
    #{off_heap_bytes := Off, refc_binaries := N, by_kind := #{refc_binary := W}} =
        memacct:term_size({appended(10), appended(20)}),
    ?assertEqual({30, 2, 12}, {Off, N, W}).

%% A 64 MiB slice at a bit offset: the NIF API would copy it whole to show
%% its bytes; its header tells its size, so it is sized on the calling
%% scheduler in well under a millisecond.
huge_unaligned_slice_is_not_copied_test() ->
    <<_:1, Sub:(64 bsl 20)/binary, _:7>> = binary:copy(<<1>>, (64 bsl 20) + 1),
    Args = [node(), erlang:system_info(creation), default],
    ?assertEqual({ok, 11}, apply(memacct_nif, live_size, [Sub, flat | Args])),
    ?assertEqual(erts_debug:flat_size(Sub), memacct:flat_size(Sub)).

%% 2^45 paths through 45 tuples: walking it takes forever (as
%% erts_debug:flat_size/1 would); when the caller is killed the dirty
%% scheduler is free again within milliseconds, not after the walk.
dirty_walk_stops_when_its_caller_exits_test_() ->
    {timeout, 60,
     fun() ->
             Dag = fun() -> lists:foldl(fun(_, A) -> {A, A} end, x, lists:seq(1, 45)) end,
             Dirty = erlang:system_info(dirty_cpu_schedulers_online),
             Walkers = [spawn(fun() -> memacct:flat_size(Dag()) end) || _ <- lists:seq(1, Dirty)],
             timer:sleep(300),
             [exit(P, kill) || P <- Walkers],
             Self = self(),
             spawn(fun() -> Self ! {done, memacct:flat_size(lists:seq(1, 100000))} end),
             ?assertEqual(200000, receive {done, W} -> W after 10000 -> stuck end)
     end}.

improper_lists_are_badarg_not_a_panic_test() ->
    ?assertError(badarg, memacct_nif:atom_words([a | b])),
    ?assertError(badarg, memacct_nif:dictionary_train([<<131, 106>> | b], 1024)),
    ?assertError(badarg, memacct_nif:decompose_aggregate([<<"{}">> | b])).

improper_pool_lists_are_badarg_test() ->
    {ok, Pool} = memacct_pool:new(#{}),
    ?assertError(badarg, memacct_nif:pool_owned_bytes(Pool, [self() | b])).

%% ETF from outside the node: `safe' never creates an atom.
safe_options_create_no_atom_test() ->
    New = fun(I) -> <<"memacct_safe_test_atom_", (integer_to_binary(I))/binary>> end,
    AtomEtf = fun(Name) -> <<119, (byte_size(Name)), Name/binary>> end,
    %% A 40-key map keyed by atoms that do not exist: sizing it needs their
    %% indices (HAMT layout).
    Keys = [AtomEtf(New(I)) || I <- lists:seq(1, 40)],
    Etf = iolist_to_binary([<<131, 116, 40:32>>, [[K, <<97, 1>>] || K <- Keys]]),
    {ok, Known} = memacct:compress_etf(term_to_binary(#{ok => [true]})),
    %% Warm up: the first calls load code, whose atoms are not the input's.
    _ = memacct:etf_flat_size(Etf, #{safe => true}),
    _ = memacct:decompress(Known, #{safe => true}),
    Before = erlang:system_info(atom_count),
    ?assertMatch({error, {needs_vm, _}}, memacct:etf_flat_size(Etf, #{safe => true})),
    ?assertEqual(Before, erlang:system_info(atom_count)),
    ?assertError(badarg, memacct:etf_flat_size(Etf, #{safe => yes})),
    %% A blob of a term holding a new atom.
    {ok, Blob} = memacct:compress_etf(<<131, (AtomEtf(New(99)))/binary>>),
    ?assertMatch({error, {invalid_value, _}}, memacct:decompress(Blob, #{safe => true})),
    ?assertEqual(Before, erlang:system_info(atom_count)),
    ?assertError(badarg, memacct:decompress(Blob, #{safe => 1})),
    %% Existing atoms are fine either way; without `safe' atoms are created.
    ?assertEqual({ok, #{ok => [true]}}, memacct:decompress(Known, #{safe => true})),
    ?assertEqual(erts_debug:flat_size(binary_to_term(Etf)), memacct:etf_flat_size(Etf)).

%% An atom table holding something other than atom words says so.
bad_atom_words_are_an_invalid_option_test() ->
    ?assertMatch({error, {invalid_option, _}},
                 memacct:etf_flat_size(term_to_binary(a), #{atom_words => #{a => 12345}})).
