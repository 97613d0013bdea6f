%%% @doc Common Test suite of memacct's compact-state codec:
%%% <ul>
%%% <li>`vectors': every record of `tests/vectors/codec/blobs.txt' (shared
%%%   with the Rust, C and Python surfaces) with its dictionaries, and of
%%%   the frozen format-1 set in `tests/vectors/codec/v1/';</li>
%%% <li>`random': fresh random terms from `memacct_term_gen' (seed in the
%%%   log; `MEMACCT_SEED' replays, `MEMACCT_RANDOM_TERMS' sets the count)
%%%   round trip `=:=', and their ETF byte for byte;</li>
%%% <li>`hostile': random garbage, every truncation and single-bit flips of
%%%   blobs, lying headers: `{error, _}' (or, for a flip in a bit that does
%%%   not matter, the very same term), never a crash;</li>
%%% <li>`scheduling': large jobs leave the normal schedulers and the normal
%%%   path stays under 1 ms;</li>
%%% <li>`dictionaries': missing, wrong, corrupt and reloaded dictionaries.</li>
%%% </ul>
-module(memacct_codec_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, groups/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([ok_vectors/1, error_vectors/1, ok_vectors_format_1/1, error_vectors_format_1/1,
         random_round_trip/1, compressed_etf_input/1,
         random_garbage/1, truncations/1, bit_flips/1, lying_headers/1,
         big_inputs_go_dirty/1, normal_path_is_short/1, no_long_schedules/1,
         missing_and_wrong_dictionary/1, reloaded_dictionary/1, corrupt_dictionary/1]).


suite() ->
    [{timetrap, {minutes, 15}}].

all() ->
    [{group, vectors}, {group, random}, {group, hostile}, {group, scheduling},
     {group, dictionaries}].

groups() ->
    [{vectors, [], [ok_vectors, error_vectors, ok_vectors_format_1, error_vectors_format_1]},
     {random, [], [random_round_trip, compressed_etf_input]},
     {hostile, [], [random_garbage, truncations, bit_flips, lying_headers]},
     {scheduling, [], [big_inputs_go_dirty, normal_path_is_short, no_long_schedules]},
     {dictionaries, [], [missing_and_wrong_dictionary, reloaded_dictionary,
                         corrupt_dictionary]}].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(memacct),
    Seed = memacct_test_vectors:seed("memacct codec"),
    Dir = filename:join(memacct_test_vectors:dir(), "codec"),
    [{seed, Seed} | vector_set(Dir, Config)].

%% `codec_dir' and `dicts' of the golden set in `Dir'.
vector_set(Dir, Config) ->
    Dicts = maps:from_list(
              [begin
                   {ok, Bin} = file:read_file(filename:join(Dir, Stem ++ ".dict")),
                   {ok, D} = memacct:load_dictionary(Bin),
                   {Stem, D}
               end || Stem <- ["mcp", "other"]]),
    [{codec_dir, Dir}, {dicts, Dicts} | Config].

%% The frozen format-1 set: this build still decodes it byte for byte.
format_1(Config) ->
    vector_set(filename:join(?config(codec_dir, Config), "v1"), Config).

end_per_suite(_Config) ->
    ok.

%%% ---------------------------------------------------------------------------
%%% Vectors

records(Config) ->
    {ok, Bin} = file:read_file(filename:join(?config(codec_dir, Config), "blobs.txt")),
    [string:lexemes(binary_to_list(L), " ")
     || L <- binary:split(Bin, <<"\n">>, [global]), L =/= <<>>, binary:first(L) =/= $#].

dict_opts("-", _Config) -> #{};
dict_opts(Stem, Config) -> #{dictionary => maps:get(Stem, ?config(dicts, Config))}.

%% Every `ok' record: decompress_etf gives the ETF byte for byte, decompress
%% gives binary_to_term of it, and blob_info agrees with both.
ok_vectors(Config) ->
    Recs = [R || ["ok" | _] = R <- records(Config)],
    Bad = [{Name, Dict, Got}
           || ["ok", Name, Dict, EtfHex, BlobHex] <- Recs,
              Etf <- [memacct_test_vectors:unhex(EtfHex)],
              Blob <- [memacct_test_vectors:unhex(BlobHex)],
              Opts <- [dict_opts(Dict, Config)],
              Got <- [{memacct:decompress_etf(Blob, Opts), memacct:decompress(Blob, Opts),
                       memacct:blob_info(Blob)}],
              not ok_record(Etf, Blob, Got)],
    ct:pal("codec ok vectors: ~b records, ~b mismatches", [length(Recs), length(Bad)]),
    [ct:pal("mismatch: ~P", [B, 30]) || B <- lists:sublist(Bad, 10)],
    ?assertEqual([], Bad),
    ?assert(length(Recs) >= 40).

ok_record(Etf, Blob, {{ok, Etf}, {ok, Term}, {ok, #{etf_bytes := N, blob_bytes := BN}}}) ->
    Term =:= binary_to_term(Etf) andalso N =:= byte_size(Etf) andalso BN =:= byte_size(Blob);
ok_record(_, _, _) ->
    false.

%% {@link ok_vectors/1} and {@link error_vectors/1} over the format-1 set.
ok_vectors_format_1(Config) ->
    ok_vectors(format_1(Config)).

error_vectors_format_1(Config) ->
    error_vectors(format_1(Config)).

%% Every `error' record fails with its code, on both decoders.
error_vectors(Config) ->
    Recs = [R || ["error" | _] = R <- records(Config)],
    Bad = [{Name, Code, Got1, Got2}
           || ["error", Name, Dict, Code, BlobHex] <- Recs,
              Blob <- [memacct_test_vectors:unhex(BlobHex)],
              Opts <- [dict_opts(Dict, Config)],
              Got1 <- [memacct:decompress_etf(Blob, Opts)],
              Got2 <- [memacct:decompress(Blob, Opts)],
              not (memacct_test_vectors:is_error(list_to_atom(Code), Got1) andalso memacct_test_vectors:is_error(list_to_atom(Code), Got2))],
    ct:pal("codec error vectors: ~b records, ~b mismatches", [length(Recs), length(Bad)]),
    ?assertEqual([], Bad),
    ?assert(length(Recs) >= 10).

%%% ---------------------------------------------------------------------------
%%% Random terms

%% Fresh random terms: decompress(compress(T)) =:= T, and
%% decompress_etf(compress_etf(term_to_binary(T))) is that ETF byte for byte.
random_round_trip(Config) ->
    Seed = ?config(seed, Config),
    N = memacct_test_vectors:random_count(),
    {Us, Checked, Bad} = memacct_test_vectors:over_random_terms(Seed, fun round_trips/2),
    ct:pal("codec random terms (seed ~b): ~b round trips in ~b ms, ~b mismatches",
           [Seed, Checked, Us div 1000, length(Bad)]),
    [ct:pal("mismatch: ~P", [B, 40]) || B <- lists:sublist(Bad, 10)],
    ?assertEqual([], Bad),
    ?assert(Checked >= N),
    {comment, io_lib:format("seed ~b, ~b terms, 0 mismatches", [Seed, Checked])}.

round_trips(Ts, Bad) ->
    lists:foldl(
      fun(T, Acc) ->
              Etf = term_to_binary(T),
              Blob = memacct:compress(T),
              Term = memacct:decompress(Blob),
              Bytes = case memacct:compress_etf(Etf) of
                          {ok, B2} -> memacct:decompress_etf(B2);
                          E -> E
                      end,
              case {Term, Bytes} of
                  {{ok, T2}, {ok, Etf}} when T2 =:= T -> Acc;
                  _ -> [#{term => T, decompress => Term, decompress_etf => Bytes} | Acc]
              end
      end, Bad, Ts).

%% term_to_binary(T, [compressed]) input decodes to the uncompressed ETF.
compressed_etf_input(Config) ->
    Ts = memacct_term_gen:terms(2000, ?config(seed, Config) + 99),
    Bad = [T || T <- [lists:seq(1, 5000), memacct_sim:connection_state(3) | Ts],
                Z <- [term_to_binary(T, [compressed])],
                Plain <- [term_to_binary(T)],
                not begin
                        {ok, Blob} = memacct:compress_etf(Z),
                        {ok, #{input_was_compressed := WasZ}} = memacct:blob_info(Blob),
                        WasZ =:= (Z =/= Plain) andalso
                            memacct:decompress_etf(Blob) =:= {ok, Plain}
                    end],
    ?assertEqual([], Bad).

%%% ---------------------------------------------------------------------------
%%% Hostile input

sane({ok, _}) -> ok;
sane({error, {Code, Msg}}) when is_atom(Code), is_binary(Msg) -> ok.

sane_error({error, {Code, Msg}}) when is_atom(Code), is_binary(Msg) -> ok.

%% Random bytes, bare and behind a valid-looking header: errors, no crash.
random_garbage(Config) ->
    S0 = rand:seed_s(exsss, ?config(seed, Config)),
    Head = binary:part(memacct:compress(a), 0, 14),
    {N, _} = lists:foldl(
               fun(I, {Acc, S}) ->
                       {Len, S1} = rand:uniform_s(96, S),
                       {Bytes, S2} = rand:bytes_s(Len, S1),
                       Blob = case I rem 3 of
                                  0 -> Bytes;
                                  1 -> <<"MAcs", Bytes/binary>>;
                                  2 -> <<Head/binary, Bytes/binary>>
                              end,
                       ok = sane_error(memacct:decompress(Blob)),
                       ok = sane_error(memacct:decompress_etf(Blob)),
                       ok = sane(memacct:blob_info(Blob)),
                       ok = sane(memacct:compress_etf(Blob)),
                       {Acc + 1, S2}
               end, {0, S0}, lists:seq(1, 30000)),
    ct:pal("codec random garbage: ~b inputs, no crash", [N]).

sample_blobs(Config) ->
    {ok, Mcp} = {ok, maps:get("mcp", ?config(dicts, Config))},
    S = memacct_sim:connection_state(42),
    [{memacct:compress(S), #{}},
     {memacct:compress(S, #{dictionary => Mcp}), #{dictionary => Mcp}},
     {memacct:compress(lists:seq(1, 300), #{level => 19}), #{}},
     {memacct:compress({<<"x">>, 1.5, self(), make_ref()}), #{}}].

%% Every proper prefix of a blob is an error.
truncations(Config) ->
    Checked = lists:sum(
                [begin
                     [ok = sane_error(memacct:decompress(binary:part(B, 0, L), O))
                      || L <- lists:seq(0, byte_size(B) - 1)],
                     byte_size(B)
                 end || {B, O} <- sample_blobs(Config)]),
    ct:pal("codec truncations: ~b prefixes, all errors", [Checked]).

%% Every single-bit flip: an error, or (a bit zstd ignores) the same term.
bit_flips(Config) ->
    {Errors, Same} =
        lists:foldl(
          fun({B, O}, Acc0) ->
                  {ok, T} = memacct:decompress(B, O),
                  lists:foldl(
                    fun(Bit, {E, S}) ->
                            <<Pre:Bit, X:1, Post/bitstring>> = B,
                            Flipped = <<Pre:Bit, (1 - X):1, Post/bitstring>>,
                            case memacct:decompress(Flipped, O) of
                                {error, {C, M}} when is_atom(C), is_binary(M) -> {E + 1, S};
                                {ok, T2} when T2 =:= T -> {E, S + 1};
                                Other -> ct:fail({wrong_decode, Bit, Other})
                            end
                    end, Acc0, lists:seq(0, bit_size(B) - 1))
          end, {0, 0}, sample_blobs(Config)),
    ct:pal("codec bit flips: ~b errors, ~b flips of ignored bits (same term)", [Errors, Same]),
    ?assert(Errors > 10 * Same).

%% Headers that lie about the output size: bounded, errors.
lying_headers(_Config) ->
    T = lists:seq(1, 50000),
    Blob = memacct:compress(T),
    <<Fixed:14/binary, Rest/binary>> = Blob,
    {EtfLen, R1} = varint(Rest),
    {ShapeLen, Payload} = varint(R1),
    Forge = fun(E, S) -> <<Fixed/binary, (put_varint(E))/binary, (put_varint(S))/binary,
                           Payload/binary>> end,
    %% Claims to be tiny: the normal path decodes at most its budget, then the
    %% stream does not match.
    ?assertMatch({error, _}, memacct:decompress(Forge(10, ShapeLen))),
    ?assertMatch({error, _}, memacct:decompress(Forge(EtfLen, 10))),
    %% Claims to be huge: refused before any work.
    ?assertMatch({error, {inflate_limit, _}}, memacct:decompress(Forge(1 bsl 40, ShapeLen))),
    ?assertMatch({error, {inflate_limit, _}}, memacct:decompress(Forge(EtfLen, 1 bsl 40))),
    ?assertMatch({error, {inflate_limit, _}}, memacct:decompress(Blob, #{max_output => 1000})),
    ?assertEqual({ok, T}, memacct:decompress(Blob)).

varint(B) -> varint(B, 0, 0).
varint(<<1:1, V:7, Rest/binary>>, Shift, Acc) -> varint(Rest, Shift + 7, Acc bor (V bsl Shift));
varint(<<0:1, V:7, Rest/binary>>, Shift, Acc) -> {Acc bor (V bsl Shift), Rest}.

put_varint(V) when V < 128 -> <<V>>;
put_varint(V) -> <<1:1, (V band 127):7, (put_varint(V bsr 7))/binary>>.

%%% ---------------------------------------------------------------------------
%%% Scheduling

%% The best of 21 runs: the cost of the work itself, not of whatever else the
%% (shared, 2-core) machine is doing meanwhile.
best_us(F) ->
    lists:min([element(1, timer:tc(F)) || _ <- lists:seq(1, 21)]) * 1.0.

%% The normal-scheduler NIFs answer `dirty' for large jobs, and the twins do them.
big_inputs_go_dirty(Config) ->
    {_Budget, MaxOut} = memacct:codec_scheduling_limits(),
    Mcp = maps:get("mcp", ?config(dicts, Config)),
    Big = term_to_binary(memacct_sim:corpus(60)),
    ?assert(byte_size(Big) > MaxOut),
    ?assertEqual(dirty, memacct_nif:codec_compress(Big, none, 3, 2, 1 bsl 30, true)),
    {ok, Blob} = memacct_nif:codec_compress_dirty(Big, none, 3, 2, 1 bsl 30, true),
    ?assertEqual({ok, Blob}, memacct:compress_etf(Big)),
    ?assertEqual(dirty, memacct_nif:codec_decompress(Blob, none, 1 bsl 30)),
    ?assertEqual({ok, Big}, memacct_nif:codec_decompress_dirty(Blob, none, 1 bsl 30)),
    ?assertEqual({ok, Big}, memacct:decompress_etf(Blob)),
    %% A small state stays on the normal scheduler; at level 19 it does not.
    Small = term_to_binary(memacct_sim:connection_state(5)),
    {ok, SmallBlob} = memacct_nif:codec_compress(Small, none, 3, 2, 1 bsl 30, true),
    ?assertEqual({ok, Small}, memacct_nif:codec_decompress(SmallBlob, none, 1 bsl 30)),
    ?assertEqual(dirty, memacct_nif:codec_compress(Small, none, 19, 2, 1 bsl 30, true)),
    ?assertMatch({ok, _}, memacct_nif:codec_compress(Small, Mcp, 3, 2, 1 bsl 30, true)),
    %% Compressed input counts its inflated size.
    Zeros = term_to_binary(binary:copy(<<0>>, 4 * MaxOut), [compressed]),
    ?assert(byte_size(Zeros) < 10000),
    ?assertEqual(dirty, memacct_nif:codec_compress(Zeros, none, 3, 2, 1 bsl 30, true)),
    %% A blob whose header understates its output still leaves the normal path.
    <<Fixed:14/binary, Rest/binary>> = Blob,
    {_EtfLen, R1} = varint(Rest),
    {ShapeLen, Payload} = varint(R1),
    Liar = <<Fixed/binary, (put_varint(100))/binary, (put_varint(ShapeLen))/binary,
             Payload/binary>>,
    ?assertEqual(dirty, memacct_nif:codec_decompress(Liar, none, 1 bsl 30)),
    ?assertMatch({error, _}, memacct_nif:codec_decompress(Liar, none, 1000)),
    ?assertMatch({error, _}, memacct:decompress(Liar)),
    %% Training is always dirty; loading a small dictionary is not.
    ?assertMatch({ok, _}, memacct_nif:dictionary_load(memacct:dictionary_to_binary(Mcp))).

%% The normal path stays short for the largest jobs it accepts.
normal_path_is_short(Config) ->
    {Budget, MaxOut} = memacct:codec_scheduling_limits(),
    Mcp = maps:get("mcp", ?config(dicts, Config)),
    Inputs =
        [{states, fun(I) -> memacct_sim:connection_state(I) end},
         {ints, fun(I) -> lists:seq(I, I + 200) end},
         {floats, fun(I) -> [I / 7, I / 3, I * 1.5] end},
         {atoms, fun(I) -> list_to_atom("memacct_codec_" ++ integer_to_list(I rem 3000)) end},
         {binaries, fun(I) -> crypto_free_bytes(I) end},
         {refs, fun(_) -> make_ref() end}],
    Cases = [{Name, Level, Dict} || {Name, _} <- Inputs, Level <- [1, 3, 9, 14],
                                    Dict <- [none, Mcp],
                                    not (Dict =/= none andalso Level =/= 3)],
    CompressTimes =
        [begin
             Gen = proplists:get_value(Name, Inputs),
             Etf = largest_fitting(Gen, Dict, Level),
             {ok, Blob} = memacct_nif:codec_compress(Etf, Dict, Level, 2, 1 bsl 30, true),
             %% Its blob may or may not decode on the normal path (the
             %% decompress budget counts blob plus ETF bytes).
             DecUs = case memacct_nif:codec_decompress(Blob, Dict, 1 bsl 30) of
                         {ok, Etf} ->
                             best_us(fun() -> memacct_nif:codec_decompress(Blob, Dict, 1 bsl 30) end);
                         dirty ->
                             {ok, Etf} = memacct_nif:codec_decompress_dirty(Blob, Dict, 1 bsl 30),
                             0.0
                     end,
             {Name, Level, dict_name(Dict), byte_size(Etf),
              best_us(fun() -> memacct_nif:codec_compress(Etf, Dict, Level, 2, 1 bsl 30, true) end),
              DecUs}
         end || {Name, Level, Dict} <- Cases],
    %% Decompression of the largest output the normal path accepts.
    DecTimes =
        [begin
             Gen = proplists:get_value(Name, Inputs),
             {Etf, Blob} = largest_decodable(Gen, MaxOut),
             {ok, Etf} = memacct_nif:codec_decompress(Blob, none, 1 bsl 30),
             {Name, byte_size(Etf), best_us(fun() -> memacct_nif:codec_decompress(Blob, none, 1 bsl 30) end)}
         end || {Name, _} <- Inputs],
    ct:pal("codec budget ~b work units; normal path, best of 21:", [Budget]),
    [ct:pal("compress ~-9s level ~2b dict ~-4s ~6b B: ~6.1f us; decompress ~6.1f us (0: dirty)",
            [N, L, D, S, C, U]) || {N, L, D, S, C, U} <- CompressTimes],
    [ct:pal("decompress ~-9s ~6b B of ETF: ~6.1f us", [N, S, U]) || {N, S, U} <- DecTimes],
    %% 1 ms is the BEAM's rule; the measured figures are 0.05-0.35 ms.
    [?assert(C < 1000.0 andalso U < 1000.0, {N, L, D, C, U})
     || {N, L, D, _, C, U} <- CompressTimes],
    [?assert(U < 1000.0, {N, U}) || {N, _, U} <- DecTimes].

dict_name(none) -> "none";
dict_name(_) -> "mcp".

%% Deterministic incompressible-ish bytes (no crypto dependency).
crypto_free_bytes(I) ->
    S = rand:seed_s(exsss, I),
    element(1, rand:bytes_s(48 + I rem 200, S)).

%% The largest list of Gen(1..N) whose compress still fits the normal path.
largest_fitting(Gen, Dict, Level) ->
    largest_fitting(Gen, Dict, Level, 1, [], term_to_binary([])).

largest_fitting(Gen, Dict, Level, I, Acc, Last) ->
    Next = [Gen(I) | Acc],
    Etf = term_to_binary(Next),
    case memacct_nif:codec_compress(Etf, Dict, Level, 2, 1 bsl 30, true) of
        dirty -> Last;
        {ok, _} when I > 20000 -> Etf;
        {ok, _} -> largest_fitting(Gen, Dict, Level, I + 1, Next, Etf)
    end.

%% The largest list of Gen(1..N) (in steps of 10) whose blob still decodes
%% on the normal path.
largest_decodable(Gen, MaxOut) ->
    largest_decodable(Gen, MaxOut, 1, [], none).

largest_decodable(Gen, MaxOut, I, Acc, Last) ->
    Next = [Gen(J) || J <- lists:seq(I, I + 9)] ++ Acc,
    Etf = term_to_binary(Next),
    {ok, Blob} = memacct:compress_etf(Etf),
    case byte_size(Etf) =< MaxOut andalso memacct_nif:codec_decompress(Blob, none, 1 bsl 30) of
        {ok, _} -> largest_decodable(Gen, MaxOut, I + 10, Next, {Etf, Blob});
        _ -> Last
    end.

%% Compressing and decompressing large inputs never holds a normal
%% scheduler: the VM's long_schedule monitor sees no long run of the calling
%% process (byte-level API, so that no term_to_binary/binary_to_term of a
%% 13 MB term or garbage collection of its heap blurs the picture).
no_long_schedules(_Config) ->
    Self = self(),
    Big = term_to_binary(memacct_sim:corpus(3000)),
    Mid = term_to_binary(memacct_sim:corpus(200)),
    {ok, Dict} = memacct:train_dictionary(memacct_sim:corpus(100), #{max_bytes => 1 bsl 20}),
    erlang:system_monitor(Self, [{long_schedule, 10}]),
    Worker = spawn_link(fun() ->
                                {ok, B1} = memacct:compress_etf(Big),
                                {ok, B2} = memacct:compress_etf(Mid, #{level => 19}),
                                {ok, B3} = memacct:compress_etf(Mid, #{dictionary => Dict}),
                                R = [memacct:decompress_etf(B1),
                                     memacct:decompress_etf(B2),
                                     memacct:decompress_etf(B3, #{dictionary => Dict})],
                                Self ! {done, self(), R =:= [{ok, Big}, {ok, Mid}, {ok, Mid}]}
                        end),
    receive
        {done, Worker, true} -> ok;
        {done, Worker, false} -> ct:fail(round_trip)
    after 120000 -> ct:fail(timeout)
    end,
    erlang:system_monitor(undefined),
    Long = flush_long(Worker, []),
    ct:pal("~b MB ETF; long_schedule reports for the codec process: ~p",
           [byte_size(Big) bsr 20, Long]),
    ?assertEqual([], Long).

flush_long(Pid, Acc) ->
    receive
        {monitor, Pid, long_schedule, Info} -> flush_long(Pid, [Info | Acc]);
        {monitor, _, long_schedule, _} -> flush_long(Pid, Acc)
    after 0 ->
            lists:reverse(Acc)
    end.

%%% ---------------------------------------------------------------------------
%%% Dictionaries

missing_and_wrong_dictionary(Config) ->
    #{"mcp" := Mcp, "other" := Other} = ?config(dicts, Config),
    S = memacct_sim:connection_state(77),
    Blob = memacct:compress(S, #{dictionary => Mcp}),
    Id = memacct:dictionary_id(Mcp),
    ?assertMatch({ok, #{dictionary_id := Id}}, memacct:blob_info(Blob)),
    ?assertMatch({error, {dictionary_required, _}}, memacct:decompress(Blob)),
    ?assertMatch({error, {dictionary_required, _}}, memacct:decompress_etf(Blob)),
    ?assertMatch({error, {dictionary_mismatch, _}},
                 memacct:decompress(Blob, #{dictionary => Other})),
    ?assertEqual({ok, S}, memacct:decompress(Blob, #{dictionary => Mcp})),
    %% A blob without a dictionary decodes whatever dictionary is given.
    Plain = memacct:compress(S),
    ?assertEqual({ok, S}, memacct:decompress(Plain, #{dictionary => Other})),
    %% The dictionary shrinks small states.
    ?assert(byte_size(Blob) < byte_size(Plain)),
    ct:pal("state 77: ~b B ETF, ~b B zlib, ~b B blob, ~b B blob with mcp.dict",
           [byte_size(term_to_binary(S)), byte_size(term_to_binary(S, [compressed])),
            byte_size(Plain), byte_size(Blob)]).

reloaded_dictionary(Config) ->
    #{"mcp" := Mcp} = ?config(dicts, Config),
    {ok, File} = file:read_file(filename:join(?config(codec_dir, Config), "mcp.dict")),
    ?assertEqual(File, memacct:dictionary_to_binary(Mcp)),
    {ok, Fresh} = memacct:train_dictionary(memacct_sim:corpus(48), #{max_bytes => 8192}),
    {ok, Again} = memacct:load_dictionary(memacct:dictionary_to_binary(Fresh)),
    ?assertEqual(memacct:dictionary_id(Fresh), memacct:dictionary_id(Again)),
    S = memacct_sim:connection_state(500),
    ?assertEqual({ok, S}, memacct:decompress(memacct:compress(S, #{dictionary => Fresh}),
                                             #{dictionary => Again})),
    %% A dictionary big enough to load on a dirty scheduler.
    {ok, Huge} = memacct:train_dictionary(memacct_sim:corpus(400), #{max_bytes => 1 bsl 20}),
    HugeBin = memacct:dictionary_to_binary(Huge),
    ct:pal("1 MiB dictionary: ~b bytes serialized", [byte_size(HugeBin)]),
    {ok, Huge2} = memacct:load_dictionary(HugeBin),
    ?assertEqual({ok, S}, memacct:decompress(memacct:compress(S, #{dictionary => Huge}),
                                             #{dictionary => Huge2})).

corrupt_dictionary(Config) ->
    #{"mcp" := Mcp} = ?config(dicts, Config),
    Bin = memacct:dictionary_to_binary(Mcp),
    ?assertMatch({error, {bad_dictionary, _}}, memacct:load_dictionary(<<>>)),
    ?assertMatch({error, {bad_dictionary, _}}, memacct:load_dictionary(<<"junk">>)),
    [?assertMatch({error, {bad_dictionary, _}},
                  memacct:load_dictionary(binary:part(Bin, 0, L)))
     || L <- lists:seq(0, byte_size(Bin) - 1, 97)],
    Flipped = [begin
                   <<Pre:P/binary, X, Post/binary>> = Bin,
                   <<Pre/binary, (X bxor 16#40), Post/binary>>
               end || P <- lists:seq(0, byte_size(Bin) - 1, 61)],
    [?assertMatch({error, {bad_dictionary, _}}, memacct:load_dictionary(F)) || F <- Flipped],
    ?assertMatch({error, {bad_dictionary, _}}, memacct:train_dictionary([])),
    ?assertMatch({error, {invalid_option, _}}, memacct:train_dictionary([a, b], #{max_bytes => 10})).
