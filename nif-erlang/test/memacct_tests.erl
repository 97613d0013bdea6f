%%% @doc EUnit tests of the `memacct' API: the sizes measured on the target VM
%%% (design notes), both paths (live term and ETF), error mapping and badarg.
-module(memacct_tests).

-include_lib("eunit/include/eunit.hrl").

%% The figures `erts_debug:flat_size/1' gave on OTP 25, 64-bit (design.md).
%% Terms are rebuilt through binary_to_term, as the contract is stated for them.
design_table() ->
    Map = fun(N) -> maps:from_list([{I, I} || I <- lists:seq(1, N)]) end,
    [{"1", 1, 0},
     {"atom", a, 0},
     {"nil", [], 0},
     {"empty tuple", {}, 0},
     {"local pid", self(), 0},
     {"1 bsl 59 (bignum)", 1 bsl 59, 2},
     {"(1 bsl 59) - 1 (small)", (1 bsl 59) - 1, 0},
     {"-(1 bsl 59) (small)", -(1 bsl 59), 0},
     {"-(1 bsl 59) - 1 (bignum)", -(1 bsl 59) - 1, 2},
     {"1 bsl 63 (fits uint64)", 1 bsl 63, 2},
     {"float", 1.0, 2},
     {"[1]", [1], 2},
     {"\"abc\"", "abc", 6},
     {"{a,b}", {a, b}, 3},
     {"<<>>", <<>>, 2},
     {"<<\"abc\">>", <<"abc">>, 3},
     {"64-byte binary", binary:copy(<<7>>, 64), 10},
     {"65-byte binary", binary:copy(<<7>>, 65), 6},
     {"<<1:3>>", <<1:3>>, 8},
     {"#{}", #{}, 3},
     {"#{a=>1}", #{a => 1}, 6},
     {"32 small-int keys", Map(32), 68},
     {"33 keys", Map(33), 127},
     {"1000 keys", Map(1000), 3710},
     {"make_ref()", make_ref(), 3},
     {"fun lists:map/2", fun lists:map/2, 5},
     {"closure, no free vars", fun() -> ok end, 5},
     {"1 bsl 200", 1 bsl 200, 5}].

%% Each design figure via the live path, the ETF path and the VM itself.
design_table_test_() ->
    [{Name,
      fun() ->
              Etf = term_to_binary(T0),
              T = binary_to_term(Etf),
              ?assertEqual(Words, erts_debug:flat_size(T)),
              ?assertEqual(Words, memacct:flat_size(T)),
              ?assertEqual(Words, memacct:etf_flat_size(Etf)),
              ?assertEqual(Words, maps:get(words, memacct:term_size(T))),
              ?assertEqual(Words, maps:get(words, memacct:etf_term_size(Etf)))
      end} || {Name, T0, Words} <- design_table()].

%% Maps above 32 keys follow the VM's key hash: atoms, pids, references,
%% tuples and binaries as keys, sized live and from ETF.
large_map_keys_test_() ->
    Keys = [{"atoms", fun(I) -> list_to_atom("memacct_key_" ++ integer_to_list(I)) end},
            {"binaries", fun(I) -> integer_to_binary(I * 7919) end},
            {"tuples", fun(I) -> {k, I, <<"x">>} end},
            {"pids", fun(I) -> list_to_pid("<0." ++ integer_to_list(I) ++ ".0>") end},
            {"references", fun(_) -> make_ref() end},
            {"floats", fun(I) -> I / 3 end},
            {"bignums", fun(I) -> (1 bsl 80) + I end},
            {"funs", fun(I) -> fun() -> I end end}],
    [{Name ++ " x" ++ integer_to_list(N),
      fun() ->
              M0 = maps:from_list([{K(I), I} || I <- lists:seq(1, N)]),
              Etf = term_to_binary(M0),
              M = binary_to_term(Etf),
              W = erts_debug:flat_size(M),
              ?assertEqual(W, memacct:flat_size(M)),
              ?assertEqual(W, memacct:etf_flat_size(Etf))
      end} || {Name, K} <- Keys, N <- [33, 100, 1000]].

report_shape_test() ->
    T = binary_to_term(term_to_binary({state, [1.5, <<0:800>>], #{a => 1}, make_ref()})),
    R = memacct:term_size(T),
    ?assertEqual(lists:sort([words, bytes, off_heap_bytes, refc_binaries, by_kind, nodes,
                             max_depth, fields]),
                 lists:sort(maps:keys(R))),
    #{words := W, bytes := B, by_kind := K, fields := F} = R,
    ?assertEqual(erts_debug:flat_size(T), W),
    ?assertEqual(8 * W, B),
    ?assertEqual(lists:sort([tuple, list, map, heap_binary, refc_binary, sub_binary, bignum,
                             float, 'fun', external_pid, external_port, external_ref,
                             local_ref]),
                 lists:sort(maps:keys(K))),
    ?assertEqual(W, lists:sum(maps:values(K))),
    ?assertEqual(100, maps:get(off_heap_bytes, R)),
    ?assertEqual(1, maps:get(refc_binaries, R)),
    ?assertEqual(6, maps:get(refc_binary, K)),
    ?assertEqual(3, maps:get(local_ref, K)),
    ?assertEqual(2, maps:get(float, K)),
    ?assertEqual([<<"1">>, <<"2">>, <<"3">>, <<"4">>], [L || {L, _, _} <- F]),
    ?assertEqual(W - 5, lists:sum([V || {_, 0, V} <- F])),
    ?assertEqual(R, memacct:etf_term_size(term_to_binary(T))).

map_fields_test() ->
    T = #{id => 7, <<"name">> => <<"x">>, {k, 1} => [1]},
    #{fields := F} = memacct:term_size(T),
    ?assertEqual(lists:sort([{<<"id">>, 0, 0}, {<<"{...}/2">>, 3, 2},
                             {<<"<<\"name\">>">>, 3, 3}]),
                 lists:sort(F)),
    #{fields := F2} = memacct:etf_term_size(term_to_binary(T)),
    ?assertEqual(lists:sort(F), lists:sort(F2)),
    ?assertEqual([], maps:get(fields, memacct:etf_term_size(term_to_binary(T),
                                                          #{fields => false}))),
    ?assertEqual([], maps:get(fields, memacct:term_size([a]))).

local_node_option_test() ->
    Pid = term_to_binary(self()),
    ?assertEqual(0, memacct:etf_flat_size(Pid)),
    ?assertEqual(4, memacct:etf_flat_size(Pid, #{local_node => none})),
    ?assertEqual(4, memacct:etf_flat_size(Pid, #{local_node => {'other@host', 0}})),
    ?assertEqual(0, memacct:etf_flat_size(Pid, #{local_node => {atom_to_binary(node()),
                                                               erlang:system_info(creation)}})),
    Ref = term_to_binary(make_ref()),
    ?assertEqual(3, memacct:etf_flat_size(Ref)),
    ?assertEqual(5, memacct:etf_flat_size(Ref, #{local_node => none})).

max_depth_option_test() ->
    Etf = term_to_binary({{{a}}}),
    ?assertEqual(6, memacct:etf_flat_size(Etf, #{max_depth => 4})),
    ?assertMatch({error, {too_deep, <<_/binary>>}}, memacct:etf_flat_size(Etf, #{max_depth => 3})).

inflate_limit_option_test() ->
    Etf = term_to_binary(lists:duplicate(1000, 0), [compressed]),
    ?assertEqual(2000, memacct:etf_flat_size(Etf)),
    ?assertMatch({error, {inflate_limit, _}}, memacct:etf_flat_size(Etf, #{inflate_limit => 100})).

%% An atom table (as exported for Python and C) gives the same sizes as the VM.
atom_words_option_test() ->
    Keys = [list_to_atom("memacct_aw_" ++ integer_to_list(I)) || I <- lists:seq(1, 40)],
    M = maps:from_list([{K, 1} || K <- Keys]),
    Etf = term_to_binary(M),
    Table = memacct:atom_words(Keys),
    ?assertEqual(length(Keys), length(Table)),
    W = erts_debug:flat_size(M),
    ?assertEqual(W, memacct:etf_flat_size(Etf, #{atom_words => Table})),
    ?assertEqual(W, memacct:etf_flat_size(Etf, #{atom_words => maps:from_list(Table)})),
    ?assertEqual(W, memacct:etf_flat_size(Etf, #{atom_words => [{atom_to_binary(A), Wd}
                                                                || {A, Wd} <- Table]})),
    ?assertMatch({error, {needs_vm, _}}, memacct:etf_flat_size(Etf, #{atom_words => #{}})).

atom_words_test() ->
    [{false, F}, {true, T}] = memacct:atom_words([false, true]),
    ?assertEqual(16#B, F band 16#3F),
    ?assertEqual(16#B, T band 16#3F),
    ?assertNotEqual(F, T),
    Many = [list_to_atom("memacct_many_" ++ integer_to_list(I)) || I <- lists:seq(1, 10000)],
    ?assertEqual(Many, [A || {A, _} <- memacct:atom_words(Many)]),
    ?assertEqual([], memacct:atom_words([])),
    ?assertError(badarg, memacct:atom_words([a, 1])),
    ?assertError(badarg, memacct:atom_words(a)).

%% An improper list (or any non-atom) is a badarg with the error_info cause
%% every other function gives, not a function_clause from the chunking.
atom_words_improper_list_test() ->
    [begin
         ?assertError(badarg, memacct:atom_words(Bad)),
         try memacct:atom_words(Bad) of
             _ -> ?assert(false)
         catch
             error:badarg:St ->
                 [{memacct, atom_words, [Bad], Info} | _] = St,
                 ?assertMatch(#{module := memacct, cause := #{1 := <<"not a proper list of atoms">>}},
                              proplists:get_value(error_info, Info)),
                 ?assertMatch(#{1 := _}, memacct:format_error(badarg, St))
         end
     end || Bad <- [[a | b], [a, b | c], [a, 1], a, [<<"a">>]]].

%% The application resource declares the names its processes register and
%% the application environment keys read, with their defaults.
app_resource_test() ->
    {ok, [{application, memacct, Keys}]} = file:consult(code:where_is_file("memacct.app")),
    Registered = proplists:get_value(registered, Keys),
    ?assert(lists:member(erlmcp_memory_pool, Registered)),
    ?assert(lists:member(erlmcp_memory_profiler, Registered)),
    Env = proplists:get_value(env, Keys),
    ?assertEqual(#{}, proplists:get_value(erlmcp_memory_profiler, Env)),
    %% every name registered by the drop-ins is declared
    ok = erlmcp_memory_profiler:start_profiling(#{interval_ms => 60000}),
    ?assert(lists:member(erlmcp_memory_profiler, [N || N <- Registered, whereis(N) =/= undefined])),
    _ = erlmcp_memory_profiler:stop_profiling(),
    ok = erlmcp_memory_pool:stop(),
    {ok, Pid} = erlmcp_memory_pool:start_link(),
    unlink(Pid),
    ?assertEqual(Pid, whereis(erlmcp_memory_pool)),
    ok = erlmcp_memory_pool:stop().

%% One record per core error code (the same inputs as tests/vectors/errors.txt).
error_mapping_test_() ->
    Z = fun(Body, Declared) -> <<131, 80, Declared:32, (zlib:compress(Body))/binary>> end,
    Cases = [{empty, <<>>},
             {bad_version, <<130, 106>>},
             {truncated, <<131>>},
             {truncated, <<131, 104, 2, 97, 1>>},
             {unknown_tag, <<131, 1>>},
             {length_too_large, <<131, 108, 255, 255, 255, 255, 106>>},
             {length_too_large, <<131, 109, 0, 0, 0, 5, 1, 2>>},
             {too_deep, term_to_binary(lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 200000)))},
             {inflate_limit, Z(<<106>>, 16#FFFFFFFF)},
             {bad_compression, <<131, 80, 0, 0, 0, 1, 1, 2, 3, 4>>},
             {bad_compression, Z(<<106>>, 5)},
             {atom_cache_ref, <<131, 82, 0>>},
             {invalid_value, <<131, 77, 0, 0, 0, 1, 9, 255>>},
             {duplicate_map_key, <<131, 116, 0, 0, 0, 2, 119, 1, $a, 97, 1, 119, 1, $a, 97, 2>>},
             {unsupported, <<131, 117, 0, 0, 0, 0, 119, 1, $a, 97, 1, 97, 1, 97, 1>>}],
    [{atom_to_list(Code),
      fun() ->
              ?assertMatch({error, {Code, Msg}} when is_binary(Msg) andalso Msg =/= <<>>,
                           memacct:etf_flat_size(Etf)),
              ?assertMatch({error, {Code, _}}, memacct:etf_term_size(Etf)),
              ?assertMatch({error, {Code, _}}, memacct:etf_term_size(Etf, #{fields => false}))
      end} || {Code, Etf} <- Cases].

badarg_test() ->
    ?assertError(badarg, memacct:etf_flat_size(foo)),
    ?assertError(badarg, memacct:etf_flat_size([131, 106])),
    ?assertError(badarg, memacct:etf_flat_size(<<1:3>>)),
    ?assertError(badarg, memacct:etf_term_size(<<1:3>>)),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, not_a_map)),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{no_such_option => 1})),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{max_depth => 0})),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{max_depth => 1 bsl 32})),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{fields => yes})),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{local_node => "node"})),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{inflate_limit => -1})),
    ?assertError(badarg, memacct:etf_term_size(<<131, 106>>, #{atom_words => [{a, -1}]})),
    ?assertError(badarg, memacct_nif:etf_size(<<131, 106>>, neither, {none, 1, 1, true, none, false})),
    ?assertError(badarg, memacct_nif:live_size(a, flat, node(), 0, -1)).

%% Slices of binaries, aligned or at a bit offset, are sized as the VM holds
%% them (a slice at a bit offset of a refc binary keeps a 5-word sub-binary
%% next to the 6-word handle); from ETF, as binary_to_term/1 builds them.
sub_binaries_test() ->
    Big = binary:copy(<<1, 2, 3>>, 400),
    Slice = fun(Off, Bits) -> <<_:Off, R:Bits/bitstring, _/bitstring>> = Big, R end,
    [begin
         S = Slice(Off, Bits),
         ?assertEqual({Off, Bits, erts_debug:flat_size(S)}, {Off, Bits, memacct:flat_size(S)})
     end || {Off, Bits} <- [{80, 160}, {80, 600}, {83, 160}, {80, 603}, {0, 9600}]],
    Unaligned = Slice(3, 8000),
    ?assertEqual(11, erts_debug:flat_size(Unaligned)),
    ?assertEqual(11, memacct:flat_size(Unaligned)),
    ?assertEqual(6, memacct:etf_flat_size(term_to_binary(Unaligned))),
    SmallBits = Slice(80, 163),
    ?assertEqual(11, erts_debug:flat_size(SmallBits)),
    ?assertEqual(11, memacct:flat_size(SmallBits)),
    ?assertEqual(10, memacct:etf_flat_size(term_to_binary(SmallBits))).

scheduling_limits_test() ->
    {EtfBytes, LiveUnits} = memacct:scheduling_limits(),
    ?assert(EtfBytes >= 1024),
    ?assert(LiveUnits >= 1000).

%% Shared subterms count once per reference, as flat_size counts them.
sharing_test() ->
    L = lists:seq(1, 100),
    T = {L, L, L},
    ?assertEqual(erts_debug:flat_size(T), memacct:flat_size(T)),
    ?assertEqual(4 + 3 * 200, memacct:flat_size(T)).

%% Terms that are not from binary_to_term: literals, improper lists, ports.
live_only_terms_test_() ->
    Port = hd(erlang:ports()),
    [?_assertEqual(erts_debug:flat_size(T), memacct:flat_size(T))
     || T <- [Port, {Port, self()}, [a | b], [1, 2 | 3], {[], {}, #{}},
              #{nested => #{deeper => [1.0, -2.5]}}, <<>>, <<"lit">>]].

%% The documented alias limitation: an alias reference whose alias is no
%% longer active is 4 words in memacct (as its ETF describes) and 3 words
%% once built by binary_to_term/1; while active, both say 4.
inactive_alias_counts_4_words_test() ->
    A = alias(),
    Etf = term_to_binary({A}),
    ?assertEqual(erts_debug:flat_size(binary_to_term(Etf)), memacct:etf_flat_size(Etf)),
    ?assertEqual(2 + 4, memacct:etf_flat_size(Etf)),
    true = unalias(A),
    ?assertEqual(2 + 3, erts_debug:flat_size(binary_to_term(Etf))),
    ?assertEqual(2 + 4, memacct:etf_flat_size(Etf)),
    ?assertMatch(#{words := 6}, memacct:etf_term_size(Etf)).

%% The documented acceptance differences from binary_to_term/1.
etf_known_differences_test() ->
    Float = fun(S) -> <<131, 99, S/binary, 0:((31 - byte_size(S)) * 8)>> end,
    %% FLOAT_EXT strings follow the VM's own grammar, both ways
    [begin
         ?assertEqual(1.5, binary_to_term(Float(S))),
         ?assertEqual(2, memacct:etf_flat_size(Float(S)))
     end || S <- [<<"1.5">>, <<"1,5">>, <<"+1.5">>, <<"15.0e-1">>]],
    [begin
         ?assertError(badarg, binary_to_term(Float(S))),
         ?assertMatch({error, {invalid_value, _}}, memacct:etf_flat_size(Float(S)))
     end || S <- [<<"1.">>, <<"1.e5">>, <<"1">>, <<"+.5">>, <<" 1.0">>, <<"1.0e999">>]],
    %% ATOM_INTERNAL_REF2/3 (73, 75): accepted by binary_to_term, refused here
    ?assertEqual(false, binary_to_term(<<131, 73, 0, 0>>)),
    ?assertMatch({error, {unknown_tag, _}}, memacct:etf_flat_size(<<131, 73, 0, 0>>)),
    ?assert(is_atom(binary_to_term(<<131, 75, 0, 0, 1>>))),
    ?assertMatch({error, {unknown_tag, _}}, memacct:etf_flat_size(<<131, 75, 0, 0, 1>>)),
    %% NEW_FUN_EXT with a wrong Size field is refused
    <<131, 112, Size:32, Rest/binary>> = term_to_binary(fun() -> ok end),
    Bad = <<131, 112, (Size + 1):32, Rest/binary>>,
    ?assertEqual(byte_size(Rest) + 4, Size),
    ?assertMatch({error, _}, memacct:etf_flat_size(Bad)).

%%% ---------------------------------------------------------------------------
%%% Explained badargs: the shell (erl_error:format_exception/3) names the
%%% public function called, with its arguments, and the argument at fault.

explained(Fun, Args, Pos) ->
    memacct_explained:raises(memacct, Fun, Args, Pos, fun() -> apply(memacct, Fun, Args) end).

codec_badarg_names_public_function_test() ->
    Blob = memacct:compress({a, 1}),
    explained(compress_etf, [foo, #{}], 1),
    explained(compress_etf, [foo], 1),
    explained(compress_etf, [<<131, 106>>, not_a_map], 2),
    explained(compress_etf, [<<131, 106>>, #{level => x}], 2),
    explained(compress, [a, #{level => x}], 2),
    explained(compress, [a, #{bogus => 1}], 2),
    explained(compress, [a, not_a_map], 2),
    explained(compress, [a, #{dictionary => make_ref()}], 2),
    explained(decompress, [foo, #{}], 1),
    explained(decompress, [foo], 1),
    explained(decompress, [Blob, #{safe => 1}], 2),
    explained(decompress, [Blob, #{dictionary => make_ref()}], 2),
    explained(decompress_etf, [foo], 1),
    explained(decompress_etf, [Blob, #{max_output => -1}], 2),
    explained(blob_info, [x], 1),
    explained(train_dictionary, [x], 1),
    explained(train_dictionary, [[a | b]], 1),
    explained(train_dictionary, [[a], #{max_bytes => big}], 2),
    explained(load_dictionary, [x], 1),
    explained(dictionary_id, [make_ref()], 1),
    explained(dictionary_to_binary, [x], 1).

%% A badarg raised below a non-tail call keeps the caller's frames, and
%% only those, under the public function's.
explained_badarg_keeps_callers_test() ->
    try memacct:compress_etf(foo, #{}) of
        _ -> ?assert(false)
    catch
        error:badarg:St ->
            [{memacct, compress_etf, [foo, #{}], _}, {?MODULE, _, _, _} | _] = St
    end.

%% The ETF sizing functions explain their badargs as the codec does.
etf_badarg_explained_test() ->
    E = <<131, 106>>,
    explained(etf_flat_size, [foo], 1),
    explained(etf_flat_size, [<<1:3>>], 1),
    explained(etf_term_size, [foo], 1),
    explained(etf_flat_size, [foo, #{}], 1),
    explained(etf_term_size, [E, not_a_map], 2),
    [explained(F, [E, Opts], 2)
     || F <- [etf_flat_size, etf_term_size],
        Opts <- [#{max_depth => 0}, #{max_depth => 1 bsl 32}, #{bogus => 1},
                 #{fields => yes}, #{local_node => "node"}, #{local_node => {n, -1}},
                 #{inflate_limit => -1}, #{safe => yes}, #{atom_words => foo}]].

%% A bad atom_words option is the function's explained badarg, not a
%% bad_generator or a badarg from inside a list comprehension.
etf_atom_words_badarg_explained_test() ->
    E = <<131, 106>>,
    [explained(etf_flat_size, [E, #{atom_words => Bad}], 2)
     || Bad <- [[{a, 1} | b], [{a, 1}, {b, 2} | c], [{a, -1}], [{a, 1 bsl 64}], [{1, 1}],
                [{a, 1, 2}], [a], #{a => x}, #{1 => 1}]],
    ?assertEqual(0, memacct:etf_flat_size(E, #{atom_words => [{a, 11}, {<<"b">>, 75}]})),
    ?assertEqual(0, memacct:etf_flat_size(E, #{atom_words => #{a => 11}})).

write_snapshot_badarg_explained_test() ->
    explained(write_snapshot, ["/nonexistent/x.json", not_a_map], 2).
