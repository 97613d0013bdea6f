%%% @doc Common Test suite of the NIF's term builder (`native/src/build.rs'
%%% over `memacct_core::etf::build'), which makes `memacct:decompress/1,2'
%%% and `memacct_pool:get/2' terms without `binary_to_term/1':
%%% <ul>
%%% <li>`random': fresh random terms of every kind (seed in the log;
%%%   `MEMACCT_SEED' replays, `MEMACCT_RANDOM_TERMS' sets the count), each
%%%   encoded with Latin-1 atoms, UTF-8 atoms and text floats: the builder
%%%   makes every one itself, `=:=' to `binary_to_term/1'; and
%%%   `memacct:decompress(memacct:compress(T))' and a pool round trip give
%%%   `T' back;</li>
%%% <li>`hostile': truncated, flipped, overwritten and extended ETF: whatever
%%%   `binary_to_term/1' rejects, the builder rejects; whatever it accepts,
%%%   the builder builds `=:=' (or declines, and callers fall back);</li>
%%% <li>`edges': every tag and encoding corner by hand, duplicate map keys,
%%%   deep nesting, more atoms than the per-thread cache holds;</li>
%%% <li>`scheduling': a build that spends the whole normal-scheduler budget
%%%   stays well under 1 ms for every kind of term, and a blob whose term is
%%%   over that budget still decodes.</li>
%%% </ul>
-module(memacct_build_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, groups/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([random_terms/1, pool_round_trip/1,
         mutated_etf/1,
         tags_and_encodings/1, duplicate_map_keys/1, deep_nesting/1,
         atom_cache_overflow/1, declined_input/1,
         normal_path_is_short/1, over_budget_falls_back/1]).

suite() ->
    [{timetrap, {minutes, 15}}].

all() ->
    [{group, random}, {group, hostile}, {group, edges}, {group, scheduling}].

groups() ->
    [{random, [], [random_terms, pool_round_trip]},
     {hostile, [], [mutated_etf]},
     {edges, [], [tags_and_encodings, duplicate_map_keys, deep_nesting,
                  atom_cache_overflow, declined_input]},
     {scheduling, [], [normal_path_is_short, over_budget_falls_back]}].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(memacct),
    [{seed, memacct_test_vectors:seed("memacct build")} | Config].

end_per_suite(_Config) ->
    ok.

%% The builder's answer for `Etf' against `binary_to_term/1''s:
%% `ok' (same term), `declined' (the builder gave an error for input the VM
%% accepts: allowed, callers fall back), `dirty' (over the normal budget),
%% or `{bad, Why}'.
verdict(Etf) ->
    Vm = try {ok, binary_to_term(Etf)} catch error:badarg -> rejected end,
    case {Vm, memacct_nif:build_term(Etf)} of
        {{ok, T}, {ok, T2}} when T2 =:= T -> ok;
        {{ok, T}, {ok, T2}} -> {bad, {different, T, T2}};
        {{ok, _}, {error, {Code, Msg}}} when is_atom(Code), is_binary(Msg) -> declined;
        {rejected, {ok, T2}} -> {bad, {built_what_the_vm_rejects, T2}};
        {rejected, {error, {Code, Msg}}} when is_atom(Code), is_binary(Msg) -> ok;
        {_, dirty} -> dirty;
        {_, Other} -> {bad, {answer, Other}}
    end.

%%% ---------------------------------------------------------------------------
%%% Random terms

%% Every random term, in three encodings, is built by the builder itself
%% (never declined) `=:=' to binary_to_term/1; decompress(compress(T)) =:= T.
random_terms(Config) ->
    Seed = ?config(seed, Config),
    {Us, Checked, Bad} = memacct_test_vectors:over_random_terms(Seed, fun check_terms/2),
    Dirty = erase({?MODULE, dirty}),
    ct:pal("builder random terms (seed ~b): ~b terms x 3 encodings in ~b ms, "
           "~p over the normal budget, ~b mismatches",
           [Seed, Checked, Us div 1000, Dirty, length(Bad)]),
    [ct:pal("mismatch: ~P", [B, 40]) || B <- lists:sublist(Bad, 10)],
    ?assertEqual([], Bad),
    ?assert(Checked >= memacct_test_vectors:random_count()),
    {comment, io_lib:format("seed ~b, ~b terms, 0 mismatches", [Seed, Checked])}.

check_terms(Ts, Bad) ->
    lists:foldl(fun check_term/2, Bad, Ts).

check_term(T, Bad) ->
    Encodings = [[], [{minor_version, 0}], [{minor_version, 2}]],
    Built = [{Opt, case verdict(Etf) of
                       dirty -> count(dirty), unbounded(Etf);
                       V -> V
                   end}
             || Opt <- Encodings, Etf <- [term_to_binary(T, Opt)]],
    Round = memacct:decompress(memacct:compress(T)),
    Bad1 = case Round of
               {ok, T2} when T2 =:= T -> Bad;
               _ -> [{decompress, T, Round} | Bad]
           end,
    lists:foldl(fun({_, ok}, B) -> B;
                   ({Opt, V}, B) -> [{build, Opt, T, V} | B]
                end, Bad1, Built).

%% A term over the normal budget, built by the dirty twin (no budget).
unbounded(Etf) ->
    {ok, Blob} = memacct:compress_etf(Etf),
    case memacct_nif:codec_decompress_term_dirty(Blob, none, 1 bsl 30) of
        {ok, T} -> case T =:= binary_to_term(Etf) of
                       true -> ok;
                       false -> {bad, {different, T}}
                   end;
        Other -> {bad, {dirty_answer, Other}}
    end.

count(Key) ->
    put({?MODULE, Key}, case get({?MODULE, Key}) of undefined -> 1; N -> N + 1 end).

%% memacct_pool:get/2 builds its terms with the builder too.
pool_round_trip(Config) ->
    Seed = ?config(seed, Config),
    {ok, P} = memacct_pool:new(#{}),
    Ts = memacct_term_gen:terms(3000, Seed),
    Bad = [{T, Got} || T <- Ts,
                       {ok, H} <- [memacct_pool:put(P, session, T)],
                       Got <- [memacct_pool:get(P, H)],
                       not (element(1, Got) =:= ok andalso element(2, Got) =:= T)],
    ct:pal("pool round trips: ~b terms, ~b mismatches", [length(Ts), length(Bad)]),
    [ct:pal("mismatch: ~P", [B, 30]) || B <- lists:sublist(Bad, 5)],
    ?assertEqual([], Bad).

%%% ---------------------------------------------------------------------------
%%% Hostile input

%% Mutations of random terms' ETF: the builder never builds what
%% binary_to_term/1 rejects, never builds something else than it does, and
%% never crashes.
mutated_etf(Config) ->
    Seed = ?config(seed, Config),
    S0 = rand:seed_s(exsss, Seed),
    Etfs = [E || T <- memacct_term_gen:terms(1500, Seed + 1, #{small => true}),
                 E <- [term_to_binary(T), term_to_binary(T, [{minor_version, 2}])],
                 byte_size(E) =< 4096],
    {Counts, Bad, _} =
        lists:foldl(
          fun(Etf, {C, B, S}) ->
                  {Ms, S1} = mutations(Etf, S),
                  {C1, B1} = lists:foldl(fun tally/2, {C, B}, Ms),
                  {C1, B1, S1}
          end, {#{}, [], S0}, Etfs),
    ct:pal("mutated ETF of ~b terms: ~p; ~b bad", [length(Etfs), Counts, length(Bad)]),
    [ct:pal("bad: ~P", [B, 40]) || B <- lists:sublist(Bad, 10)],
    ?assertEqual([], Bad).

tally(Etf, {Counts, Bad}) ->
    case verdict(Etf) of
        {bad, Why} -> {Counts, [{Etf, Why} | Bad]};
        V -> {maps:update_with(V, fun(N) -> N + 1 end, 1, Counts), Bad}
    end.

%% Ten truncations, ten single-bit flips, ten overwritten bytes, trailing
%% bytes, and a doubled term.
mutations(Etf, S) ->
    Size = byte_size(Etf),
    {Cuts, S1} = uniforms(10, Size - 1, S),
    {Flips, S2} = uniforms(10, Size * 8 - 9, S1),
    {Spots, S3} = uniforms(10, Size - 1, S2),
    {Bytes, S4} = uniforms(10, 256, S3),
    Truncated = [binary:part(Etf, 0, N) || N <- Cuts],
    Flipped = [begin
                   <<A:(8 + F)/bits, X:1, R/bits>> = Etf,
                   <<A/bits, (1 - X):1, R/bits>>
               end || F <- Flips],
    Overwritten = [begin
                       <<A:P/binary, _, R/binary>> = Etf,
                       <<A/binary, (B - 1), R/binary>>
                   end || {P, B} <- lists:zip(Spots, Bytes)],
    <<_, Body/binary>> = Etf,
    {Truncated ++ Flipped ++ Overwritten ++ [<<Etf/binary, 0>>, <<Etf/binary, Body/binary>>], S4}.

uniforms(N, Max, S) when Max < 1 ->
    {lists:duplicate(N, 1), S};
uniforms(N, Max, S) ->
    lists:mapfoldl(fun(_, Si) -> rand:uniform_s(Max, Si) end, S, lists:seq(1, N)).

%%% ---------------------------------------------------------------------------
%%% Edges

%% Every tag and atom encoding, by hand, against binary_to_term/1.
tags_and_encodings(_Config) ->
    Node = atom_to_binary(node(), utf8),
    LocalNode = <<119, (byte_size(Node)), Node/binary>>,
    Latin1 = fun(Name) -> <<131, 100, (byte_size(Name)):16, Name/binary>> end,
    Exact =
        [%% Atoms in all four encodings, Latin-1 above 127, UTF-8 above 255,
         %% the longest atoms, the empty atom.
         Latin1(<<"ok">>), Latin1(<<"h", 233, "llo">>), <<131, 115, 2, "ok">>,
         <<131, 115, 1, 255>>, <<131, 118, 0, 2, "ok">>, <<131, 119, 2, 195, 169>>,
         <<131, 119, 9, "日本語"/utf8>>, <<131, 118, 0, 4, "😀"/utf8>>,
         Latin1(binary:copy(<<"x">>, 255)), Latin1(binary:copy(<<233>>, 255)),
         <<131, 118, 765:16, (binary:copy(<<"日"/utf8>>, 255))/binary>>,
         <<131, 119, 0>>, Latin1(<<>>),
         %% Integers and bignums around every boundary.
         <<131, 97, 255>>, <<131, 98, 255, 255, 255, 255>>, <<131, 98, 128, 0, 0, 0>>,
         <<131, 110, 0, 0>>, <<131, 110, 0, 1>>, <<131, 110, 2, 1, 0, 0>>,
         <<131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255>>,
         <<131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128>>,
         <<131, 110, 8, 1, 1, 0, 0, 0, 0, 0, 0, 128>>,
         <<131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128>>,
         <<131, 110, 8, 7, 255, 255, 255, 255, 255, 255, 255, 127>>,
         <<131, 110, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1>>,
         <<131, 111, 0, 0, 0, 3, 1, 5, 0, 0>>,
         term_to_binary(1 bsl 2040), term_to_binary(-(1 bsl 64)),
         %% Floats: NEW_FLOAT, -0.0, FLOAT_EXT.
         term_to_binary(-0.0), term_to_binary(5.0e-324), term_to_binary(1.5, [{minor_version, 0}]),
         <<131, 99, "1.5", 0:(28 * 8)>>,
         %% Lists, strings, tuples, maps, binaries.
         <<131, 106>>, <<131, 108, 0, 0, 0, 0, 97, 5>>, <<131, 108, 0, 0, 0, 1, 97, 1, 97, 2>>,
         <<131, 107, 0, 0>>, <<131, 107, 0, 3, 0, 128, 255>>,
         <<131, 104, 0>>, <<131, 105, 0, 0, 0, 2, 97, 1, 106>>, <<131, 116, 0, 0, 0, 0>>,
         term_to_binary(list_to_tuple(lists:seq(1, 300))),
         <<131, 109, 0, 0, 0, 0>>, term_to_binary(binary:copy(<<7>>, 65)),
         <<131, 77, 0, 0, 0, 1, 3, 224>>,
         %% Pids, ports, references of this node and another, in every encoding.
         term_to_binary(self()), term_to_binary(hd(erlang:ports())), term_to_binary(make_ref()),
         term_to_binary(memacct_term_gen:external_pid()),
         term_to_binary(memacct_term_gen:external_port()),
         term_to_binary(memacct_term_gen:external_ref()),
         <<131, 103, LocalNode/binary, 0, 0, 0, 1, 0, 0, 0, 0, 0>>,
         <<131, 102, LocalNode/binary, 0, 0, 0, 1, 0>>,
         <<131, 120, LocalNode/binary, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0>>,
         <<131, 101, LocalNode/binary, 0, 0, 0, 1, 0>>,
         <<131, 114, 0, 1, LocalNode/binary, 0, 0, 0, 0, 1>>,
         %% Funs: closures with environments, exports, and the pre-R13 FUN_EXT.
         term_to_binary(fun() -> ok end), term_to_binary(fun lists:map/2),
         term_to_binary([fun(X) -> {X, self(), [1 | 2]} end])],
    %% Odd input: the builder may leave it to binary_to_term/1 (declined),
    %% but never builds what the VM rejects, nor another term.
    Odd =
        [%% Atoms too long, not UTF-8, surrogates, overlong.
         Latin1(binary:copy(<<"x">>, 256)), <<131, 119, 2, 195, 40>>,
         <<131, 119, 3, 237, 160, 128>>, <<131, 119, 2, 192, 128>>,
         <<131, 118, 766:16, (binary:copy(<<"日"/utf8>>, 255))/binary, "x">>,
         %% Infinity, text floats with spaces, junk, or nothing.
         <<131, 70, 127, 240, 0, 0, 0, 0, 0, 0>>, <<131, 99, " 2.5e3", 0:(25 * 8)>>,
         <<131, 99, "1.5x", 0:(27 * 8)>>, <<131, 99, 0:(31 * 8)>>, <<131, 99, "0x10", 0:(27 * 8)>>,
         %% Bitstrings with impossible bit counts.
         <<131, 77, 0, 0, 0, 0, 0>>, <<131, 77, 0, 0, 0, 1, 0, 224>>,
         <<131, 77, 0, 0, 0, 1, 9, 224>>, <<131, 77, 0, 0, 0, 0, 3>>,
         %% Old creations out of range, reference lengths 0 and 6.
         <<131, 103, LocalNode/binary, 0, 0, 0, 1, 0, 0, 0, 0, 4>>,
         <<131, 114, 0, 0, LocalNode/binary, 0>>,
         <<131, 90, 0, 6, LocalNode/binary, 0:32, 0:(6 * 32)>>,
         %% The pre-R13 FUN_EXT; unknown tag, atom cache reference, empty,
         %% another version; trailing bytes.
         <<131, 117, 0, 0, 0, 0>>, <<131, 200>>, <<131, 82, 0>>, <<131>>, <<>>,
         <<130, 106>>, <<131, 97, 1, 0>>],
    NotExact = [{E, V} || E <- Exact, V <- [verdict(E)], V =/= ok],
    Wrong = [{E, V} || E <- Odd, V <- [verdict(E)], V =/= ok, V =/= declined],
    Declined = [E || E <- Odd, verdict(E) =:= declined],
    ct:pal("~b exact inputs, not built like binary_to_term/1: ~p~n"
           "~b odd inputs, wrong: ~p; left to binary_to_term/1: ~p",
           [length(Exact), NotExact, length(Odd), Wrong, Declined]),
    ?assertEqual([], NotExact),
    ?assertEqual([], Wrong).

%% Duplicate keys are an error, as binary_to_term/1 rejects them, in flat
%% maps and HAMTs; and a blob of such ETF decompresses to an error.
duplicate_map_keys(_Config) ->
    Small = <<131, 116, 2:32, 97, 1, 106, 97, 1, 106>>,
    Pairs = << <<97, (I rem 40), 106>> || I <- lists:seq(1, 41) >>,
    Large = <<131, 116, 41:32, Pairs/binary>>,
    Nested = <<131, 104, 1, 116, 1:32, 116, 0:32, 116, 2:32, 100, 1:16, "a", 97, 1, 100, 1:16, "a", 97, 2>>,
    [begin
         ?assertError(badarg, binary_to_term(E)),
         ?assertMatch({error, {duplicate_map_key, _}}, memacct_nif:build_term(E)),
         {ok, Blob} = memacct:compress_etf(E),
         ?assertEqual({ok, E}, memacct:decompress_etf(Blob)),
         ?assertMatch({error, {invalid_value, _}}, memacct:decompress(Blob))
     end || E <- [Small, Large, Nested]],
    %% Equal keys of different types are distinct, as in the VM.
    Distinct = term_to_binary(#{1 => a, 1.0 => b, <<"1">> => c, "1" => d, '1' => e}),
    ?assertEqual(ok, verdict(Distinct)).

%% Nesting never recurses: a million nested lists and 200,000 nested
%% tuples and maps build (on a dirty scheduler: over the normal budget).
deep_nesting(_Config) ->
    Terms = [lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 1000000)),
             lists:foldl(fun(I, A) -> {I, A} end, 0, lists:seq(1, 200000)),
             lists:foldl(fun(I, A) -> #{I => A} end, 0, lists:seq(1, 200000)),
             lists:foldl(fun(I, A) -> [I | A] end, tail, lists:seq(1, 200000))],
    [begin
         Etf = term_to_binary(T),
         ?assertEqual(dirty, memacct_nif:build_term(Etf)),
         {ok, Blob} = memacct:compress_etf(Etf),
         {ok, T2} = memacct:decompress(Blob),
         ?assert(T2 =:= T)
     end || T <- Terms],
    %% Small nesting stays on the normal path.
    Small = lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 1000)),
    ?assertEqual({ok, Small}, memacct_nif:build_term(term_to_binary(Small))).

%% More distinct atoms than a thread caches: the extra ones are made each
%% time (and still right).
atom_cache_overflow(_Config) ->
    {_Budget, CacheMax} = memacct_nif:build_limits(),
    ?assertEqual(8192, CacheMax),
    Atoms = [list_to_atom("memacct_build_overflow_" ++ integer_to_list(I))
             || I <- lists:seq(1, 3 * CacheMax)],
    Wide = [list_to_atom("日本_" ++ integer_to_list(I)) || I <- lists:seq(1, 3000)],
    Chunks = chunks(Atoms ++ Wide, 400),
    [?assertEqual(ok, verdict(term_to_binary(C))) || _ <- [1, 2], C <- Chunks],
    {ok, All} = memacct:decompress(memacct:compress(Atoms ++ Wide)),
    ?assert(All =:= Atoms ++ Wide).

chunks([], _) -> [];
chunks(L, N) when length(L) =< N -> [L];
chunks(L, N) -> {A, B} = lists:split(N, L), [A | chunks(B, N)].

%% Input the builder leaves to binary_to_term/1: compressed ETF and trailing
%% bytes (which binary_to_term/1 ignores).
declined_input(_Config) ->
    T = {memacct_sim:connection_state(3), [1.5, <<"x">>]},
    Compressed = term_to_binary(T, [compressed]),
    ?assertMatch({error, {unsupported, _}}, memacct_nif:build_term(Compressed)),
    ?assertMatch({error, {invalid_value, _}}, memacct_nif:build_term(<<(term_to_binary(T))/binary, 0>>)),
    %% Compressed input to the codec is stored inflated, so it still builds.
    {ok, Blob} = memacct:compress_etf(Compressed),
    {ok, T2} = memacct:decompress(Blob),
    ?assert(T2 =:= T).

%%% ---------------------------------------------------------------------------
%%% Scheduling

%% For every kind of term, the largest list that the builder still makes on
%% a normal scheduler (within its budget) takes well under 1 ms; so does a
%% normal-scheduler codec_decompress_term of the largest blob it accepts.
normal_path_is_short(_Config) ->
    {Budget, _} = memacct_nif:build_limits(),
    {_, MaxOut} = memacct:codec_scheduling_limits(),
    Many = list_to_tuple([list_to_atom("memacct_build_short_" ++ integer_to_list(I))
                          || I <- lists:seq(1, 20000)]),
    Wide = list_to_tuple([list_to_atom("日本_short_" ++ integer_to_list(I))
                          || I <- lists:seq(1, 20000)]),
    Kinds =
        [{ints, fun(I) -> I * 1000 end},
         {atoms, fun(I) -> element(1 + I rem 10, {a, b, c, d, e, f, g, h, i, j}) end},
         {new_atoms, fun(I) -> element(1 + I rem 20000, Many) end},
         {wide_atoms, fun(I) -> element(1 + I rem 20000, Wide) end},
         {binaries, fun(I) -> <<I:128>> end},
         {big_binaries, fun(I) -> binary:copy(<<I:8>>, 1024) end},
         {strings, fun(I) -> lists:duplicate(100, I rem 200 + 1) end},
         {floats, fun(I) -> I / 3 end},
         {bignums, fun(I) -> (1 bsl 100) + I end},
         {pids, fun(_) -> self() end},
         {refs, fun(_) -> make_ref() end},
         {funs, fun(I) -> fun() -> I end end},
         {maps, fun(I) -> #{<<"name">> => I, <<"v">> => I} end},
         {maps33, fun(I) -> maps:from_list([{K, I} || K <- lists:seq(1, 33)]) end},
         {maps1000, fun(I) -> maps:from_list([{K + I, I} || K <- lists:seq(1, 1000)]) end},
         {nested, fun(I) -> lists:foldl(fun(_, A) -> {A} end, I, lists:seq(1, 100)) end},
         {improper, fun(I) -> [I | I] end},
         {states, fun(I) -> memacct_sim:connection_state(I) end}],
    Times = [begin
                 Gen = proplists:get_value(Name, Kinds),
                 {N, Etf} = largest(Gen),
                 {Name, N, byte_size(Etf), best_us(fun() -> memacct_nif:build_term(Etf) end)}
             end || {Name, _} <- Kinds],
    ct:pal("build budget ~b work units; largest build on the normal path, best of 11:", [Budget]),
    [ct:pal("~-12s ~7b terms ~8b B of ETF: ~6.1f us", [Na, N, S, U]) || {Na, N, S, U} <- Times],
    %% The codec's normal path decompresses and builds.
    {Etf, Blob} = largest_blob(MaxOut),
    {ok, _} = memacct_nif:codec_decompress_term(Blob, none, 1 bsl 30),
    DecUs = best_us(fun() -> memacct_nif:codec_decompress_term(Blob, none, 1 bsl 30) end),
    ct:pal("codec_decompress_term of ~b B of ETF (states): ~.1f us", [byte_size(Etf), DecUs]),
    %% 1 ms is the BEAM's rule; the measured figures are 0.02-0.2 ms.
    [?assert(U < 1000.0, {Na, U}) || {Na, _, _, U} <- Times],
    ?assert(DecUs < 1000.0).

%% The largest list of Gen(1..N) that build_term makes on the normal path.
largest(Gen) ->
    grow(Gen, 1, {0, term_to_binary([])}).

grow(Gen, N, Last) ->
    Etf = term_to_binary([Gen(I) || I <- lists:seq(1, N)]),
    case memacct_nif:build_term(Etf) of
        {ok, _} -> grow(Gen, N * 2, {N, Etf});
        dirty -> bisect(Gen, element(1, Last), N, Last)
    end.

bisect(_Gen, Lo, Hi, Last) when Hi - Lo =< 1; Hi - Lo =< Lo div 50 ->
    Last;
bisect(Gen, Lo, Hi, Last) ->
    Mid = (Lo + Hi) div 2,
    Etf = term_to_binary([Gen(I) || I <- lists:seq(1, Mid)]),
    case memacct_nif:build_term(Etf) of
        {ok, _} -> bisect(Gen, Mid, Hi, {Mid, Etf});
        dirty -> bisect(Gen, Lo, Mid, Last)
    end.

%% The largest list of connection states whose blob decodes and builds on
%% the normal path.
largest_blob(MaxOut) ->
    largest_blob(MaxOut, 1, [], none).

largest_blob(MaxOut, I, Acc, Last) ->
    Next = [memacct_sim:connection_state(I) | Acc],
    Etf = term_to_binary(Next),
    {ok, Blob} = memacct:compress_etf(Etf),
    case byte_size(Etf) =< MaxOut andalso memacct_nif:codec_decompress_term(Blob, none, 1 bsl 30) of
        {ok, _} -> largest_blob(MaxOut, I + 1, Next, {Etf, Blob});
        _ -> Last
    end.

best_us(F) ->
    lists:min([element(1, timer:tc(F)) || _ <- lists:seq(1, 11)]) * 1.0.

%% A blob the codec decodes on the normal path but whose term is over the
%% build budget comes back as ETF for binary_to_term/1; a larger one goes to
%% the dirty twin, which builds without a budget. Both decompress to the term.
over_budget_falls_back(_Config) ->
    {_, MaxOut} = memacct:codec_scheduling_limits(),
    Floats = [I / 7 || I <- lists:seq(1, 9500)],
    FEtf = term_to_binary(Floats),
    ?assert(byte_size(FEtf) =< MaxOut),
    ?assertEqual(dirty, memacct_nif:build_term(FEtf)),
    {ok, FBlob} = memacct:compress_etf(FEtf),
    ?assertEqual({etf, FEtf}, memacct_nif:codec_decompress_term(FBlob, none, 1 bsl 30)),
    ?assertEqual({ok, Floats}, memacct:decompress(FBlob)),
    Big = memacct_sim:corpus(60),
    {ok, BBlob} = memacct:compress_etf(term_to_binary(Big)),
    ?assertEqual(dirty, memacct_nif:codec_decompress_term(BBlob, none, 1 bsl 30)),
    {ok, Big2} = memacct_nif:codec_decompress_term_dirty(BBlob, none, 1 bsl 30),
    ?assert(Big2 =:= Big),
    {ok, Big3} = memacct:decompress(BBlob),
    ?assert(Big3 =:= Big).
