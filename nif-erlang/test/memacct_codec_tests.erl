%%% @doc EUnit tests of memacct's compact-state API: round trips, options,
%%% errors, badarg, dictionaries and blob headers.
-module(memacct_codec_tests).

-include_lib("eunit/include/eunit.hrl").

terms() ->
    [a, [], {}, 0, -1, 1 bsl 70, 1.5, <<>>, <<"abc">>, binary:copy(<<7>>, 300), <<1:3>>,
     "string", [1 | 2], {ok, self(), make_ref()}, #{a => 1, <<"b">> => [2]},
     maps:from_list([{I, I} || I <- lists:seq(1, 40)]), fun lists:map/2,
     memacct_sim:connection_state(1), lists:seq(1, 10000)].

round_trip_test_() ->
    [?_assertEqual({ok, T}, memacct:decompress(memacct:compress(T))) || T <- terms()].

etf_round_trip_is_byte_identical_test_() ->
    [fun() ->
             Etf = term_to_binary(T),
             {ok, Blob} = memacct:compress_etf(Etf),
             ?assertEqual({ok, Etf}, memacct:decompress_etf(Blob)),
             ?assertEqual(Blob, memacct:compress(T))
     end || T <- terms()].

levels_test() ->
    S = memacct_sim:connection_state(9),
    [?assertEqual({ok, S}, memacct:decompress(memacct:compress(S, #{level => L})))
     || L <- lists:seq(1, 22)],
    ?assertError({memacct, {invalid_option, _}}, memacct:compress(S, #{level => 0})),
    ?assertError({memacct, {invalid_option, _}}, memacct:compress(S, #{level => 23})),
    ?assertError({memacct, {invalid_option, _}}, memacct:compress(S, #{level => 1 bsl 80})),
    ?assertMatch({error, {invalid_option, _}},
                 memacct:compress_etf(term_to_binary(S), #{level => -5})).

format_test() ->
    S = memacct_sim:connection_state(9),
    [begin
         Blob = memacct:compress(S, #{format => F}),
         ?assertMatch({ok, #{version := F}}, memacct:blob_info(Blob)),
         ?assertEqual({ok, S}, memacct:decompress(Blob)),
         {ok, B2} = memacct:compress_etf(term_to_binary(S), #{format => F}),
         ?assertEqual({ok, term_to_binary(S)}, memacct:decompress_etf(B2))
     end || F <- [1, 2]],
    [?assertError({memacct, {invalid_option, _}}, memacct:compress(S, #{format => F}))
     || F <- [0, 3, 256, -1, 1 bsl 70]],
    ?assertError(badarg, memacct:compress(S, #{format => "2"})),
    %% compress_etf/2 still checks that the ETF is one term.
    ?assertMatch({error, {invalid_value, _}},
                 memacct:compress_etf(<<(term_to_binary(S))/binary, 106>>)).

blob_info_test() ->
    Etf = term_to_binary(lists:seq(1, 100)),
    {ok, Blob} = memacct:compress_etf(Etf),
    ?assertEqual({ok, #{version => 2, dictionary_id => 0, etf_bytes => byte_size(Etf),
                        input_was_compressed => false, blob_bytes => byte_size(Blob)}},
                 memacct:blob_info(Blob)),
    Zeros = binary:copy(<<0>>, 1000),
    {ok, Z} = memacct:compress_etf(term_to_binary(Zeros, [compressed])),
    ?assertMatch({ok, #{input_was_compressed := true, etf_bytes := 1006}}, memacct:blob_info(Z)),
    ?assertMatch({error, {bad_blob, _}}, memacct:blob_info(<<"nope">>)).

errors_test() ->
    ?assertMatch({error, {bad_blob, _}}, memacct:decompress(<<>>)),
    ?assertMatch({error, {bad_blob, _}}, memacct:decompress(<<"junk">>)),
    ?assertMatch({error, {bad_version, _}}, memacct:compress_etf(<<1, 2, 3>>)),
    ?assertMatch({error, {empty, _}}, memacct:compress_etf(<<>>)),
    ?assertMatch({error, {length_too_large, _}}, memacct:compress_etf(<<131, 104, 2, 97>>)),
    Blob = memacct:compress({a, b}),
    <<Pre:4/binary, _, Post/binary>> = Blob,
    ?assertMatch({error, {blob_version, _}}, memacct:decompress(<<Pre/binary, 9, Post/binary>>)),
    ?assertMatch({error, {inflate_limit, _}}, memacct:decompress(Blob, #{max_output => 2})).

badarg_test() ->
    T = {a, 1},
    Blob = memacct:compress(T),
    Bad = [fun() -> memacct:compress(T, #{level => x}) end,
           fun() -> memacct:compress(T, #{level => 1.0}) end,
           fun() -> memacct:compress(T, #{bogus => 1}) end,
           fun() -> memacct:compress(T, #{dictionary => x}) end,
           fun() -> memacct:compress(T, #{dictionary => make_ref()}) end,
           fun() -> memacct:compress(T, not_a_map) end,
           fun() -> memacct:compress_etf(not_a_binary) end,
           fun() -> memacct:compress_etf(<<131, 106>>, #{inflate_limit => -1}) end,
           fun() -> memacct:decompress(not_a_binary) end,
           fun() -> memacct:decompress(Blob, #{max_output => -1}) end,
           fun() -> memacct:decompress(Blob, #{dictionary => make_ref()}) end,
           fun() -> memacct:decompress_etf(Blob, [x]) end,
           fun() -> memacct:blob_info(x) end,
           fun() -> memacct:train_dictionary(x) end,
           fun() -> memacct:train_dictionary([a | b]) end,
           fun() -> memacct:train_dictionary([a], #{max_bytes => big}) end,
           fun() -> memacct:load_dictionary(x) end,
           fun() -> memacct:dictionary_id(make_ref()) end,
           fun() -> memacct:dictionary_to_binary(x) end],
    [begin
         try F() of
             R -> ?assertEqual(badarg_expected, R)
         catch
             error:badarg:St ->
                 %% The shell explains the badarg through format_error/2.
                 Cause = memacct:format_error(badarg, St),
                 ?assertMatch([{_, Why}] when is_binary(Why), maps:to_list(Cause))
         end
     end || F <- Bad].

dictionary_test() ->
    Corpus = memacct_sim:corpus(30),
    {ok, D} = memacct:train_dictionary(Corpus),
    Id = memacct:dictionary_id(D),
    ?assert(is_integer(Id) andalso Id > 0),
    S = memacct_sim:connection_state(4242),
    Blob = memacct:compress(S, #{dictionary => D}),
    ?assertMatch({ok, #{dictionary_id := Id}}, memacct:blob_info(Blob)),
    ?assertEqual({ok, S}, memacct:decompress(Blob, #{dictionary => D})),
    ?assertMatch({error, {dictionary_required, _}}, memacct:decompress(Blob)),
    {ok, D2} = memacct:load_dictionary(memacct:dictionary_to_binary(D)),
    ?assertEqual(Id, memacct:dictionary_id(D2)),
    ?assertEqual({ok, S}, memacct:decompress(Blob, #{dictionary => D2})),
    {ok, Other} = memacct:train_dictionary(lists:seq(1, 50), #{max_bytes => 1024}),
    ?assertMatch({error, {dictionary_mismatch, _}},
                 memacct:decompress(Blob, #{dictionary => Other})),
    ?assertMatch({error, {bad_dictionary, _}}, memacct:train_dictionary([])),
    ?assertMatch({error, {invalid_option, _}}, memacct:train_dictionary(Corpus, #{max_bytes => 1})),
    ?assertMatch({error, {bad_dictionary, _}}, memacct:load_dictionary(<<"MAcd">>)).

scheduling_limits_test() ->
    {Budget, MaxOut} = memacct:codec_scheduling_limits(),
    ?assert(Budget > 0 andalso MaxOut > 0).
