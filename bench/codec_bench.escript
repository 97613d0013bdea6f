#!/usr/bin/env escript
%%! -noshell +sbwt none
%%% Compact-state benchmark inside the BEAM, baseline and memacct in the same
%%% run on the same states:
%%%   size:       term_to_binary(T), term_to_binary(T, [compressed]) (zlib),
%%%               memacct:compress(T) without and with a trained dictionary;
%%%   round trip: binary_to_term(term_to_binary(T, [compressed]))  vs
%%%               memacct:decompress(memacct:compress(T, Opts));
%%%   parts:      each step of both round trips timed alone over the same
%%%               states (what the ratios are made of).
%%% The dictionary is trained on other connections than the ones measured.
%%% Writes JSON for bench/report.py.
%%%   escript bench/codec_bench.escript OUT.json [States]
-mode(compile).

-define(ROUNDS, 7).

main([Out | Rest]) ->
    Count = case Rest of [C] -> list_to_integer(C); [] -> 2000 end,
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    {module, memacct} = code:ensure_loaded(memacct),
    %% Terms as a connection process holds them: built at run time, copied
    %% through binary_to_term so no part is a shared literal.
    Fresh = fun(Ns) -> [binary_to_term(term_to_binary(memacct_sim:connection_state(N))) || N <- Ns] end,
    Train = Fresh(lists:seq(1000001, 1000500)),
    States = Fresh(lists:seq(1, Count)),
    {TrainUs, {ok, Dict}} = timer:tc(fun() -> memacct:train_dictionary(Train) end),
    DictBytes = byte_size(memacct:dictionary_to_binary(Dict)),
    WithDict = #{dictionary => Dict},
    Sum = fun(F) -> lists:sum([byte_size(F(T)) || T <- States]) end,
    Etf = Sum(fun(T) -> term_to_binary(T) end),
    Zlib = Sum(fun(T) -> term_to_binary(T, [compressed]) end),
    Plain = Sum(fun(T) -> memacct:compress(T) end),
    Dicted = Sum(fun(T) -> memacct:compress(T, WithDict) end),
    %% Lossless before timing anything.
    Lost = length([x || T <- States,
                        {ok, T2} <- [memacct:decompress(memacct:compress(T))],
                        {ok, T3} <- [memacct:decompress(memacct:compress(T, WithDict), WithDict)],
                        not (T2 =:= T andalso T3 =:= T)])
        + length([x || T <- States, element(1, memacct:decompress(memacct:compress(T))) =/= ok]),
    %% Each round trip's result is dropped at once, as a connection process
    %% that restores its own state does: keeping all 2000 results alive
    %% would time the bench process's garbage collections copying them.
    Base = time(each(fun(T) -> binary_to_term(term_to_binary(T, [compressed])) end, States)),
    MemPlain = time(each(fun(T) -> memacct:decompress(memacct:compress(T)) end, States)),
    MemDict = time(each(fun(T) -> memacct:decompress(memacct:compress(T, WithDict), WithDict) end,
                        States)),
    %% The parts, over the same states; the inputs are made first.
    Etfs = [term_to_binary(T) || T <- States],
    Zlibs = [term_to_binary(T, [compressed]) || T <- States],
    Blobs = [memacct:compress(T) || T <- States],
    DictBlobs = [memacct:compress(T, WithDict) || T <- States],
    Part = fun(F, Inputs) -> time(each(F, Inputs)) * 1000 / length(Inputs) end,
    Parts = #{zlib_term_to_binary_ns => Part(fun(T) -> term_to_binary(T, [compressed]) end, States),
              zlib_binary_to_term_ns => Part(fun(Z) -> binary_to_term(Z) end, Zlibs),
              term_to_binary_ns => Part(fun(T) -> term_to_binary(T) end, States),
              compress_ns => Part(fun(T) -> memacct:compress(T) end, States),
              compress_dict_ns => Part(fun(T) -> memacct:compress(T, WithDict) end, States),
              decompress_etf_ns => Part(fun(B) -> memacct:decompress_etf(B) end, Blobs),
              decompress_etf_dict_ns => Part(fun(B) -> memacct:decompress_etf(B, WithDict) end, DictBlobs),
              build_term_ns => Part(fun(E) -> memacct_nif:build_term(E) end, Etfs),
              binary_to_term_ns => Part(fun(E) -> binary_to_term(E) end, Etfs)},
    N = length(States),
    Json = json(#{parts => Parts,
otp => list_to_binary(erlang:system_info(otp_release)),
                  schedulers => erlang:system_info(schedulers_online), rounds => ?ROUNDS,
                  states => N, training_states => length(Train),
                  dictionary_bytes => DictBytes, training_ms => TrainUs / 1000,
                  etf_bytes_per_state => Etf / N, zlib_bytes_per_state => Zlib / N,
                  memacct_bytes_per_state => Plain / N, memacct_dict_bytes_per_state => Dicted / N,
                  ratio_vs_zlib => Plain / Zlib, dict_ratio_vs_zlib => Dicted / Zlib,
                  lost => Lost,
                  baseline_round_trip_ns => Base * 1000 / N,
                  memacct_round_trip_ns => MemPlain * 1000 / N,
                  memacct_dict_round_trip_ns => MemDict * 1000 / N,
                  speedup => Base / MemPlain, dict_speedup => Base / MemDict}),
    ok = file:write_file(Out, Json),
    io:format("~s~n", [Json]).

%% A run of `F' over every state (the fun's result is returned, so nothing
%% can be optimised away; lists:foreach/2 drops it).
each(F, States) ->
    fun() -> lists:foreach(F, States) end.

%% Median wall time (microseconds) of ?ROUNDS runs, after one warm-up.
time(F) ->
    _ = F(),
    Ts = lists:sort([element(1, timer:tc(F)) || _ <- lists:seq(1, ?ROUNDS)]),
    lists:nth((?ROUNDS + 1) div 2, Ts).

json(M) when is_map(M) ->
    ["{", lists:join(",", [[json(atom_to_binary(K)), ":", json(V)] || {K, V} <- lists:sort(maps:to_list(M))]), "}"];
json(B) when is_binary(B) -> [$", B, $"];
json(I) when is_integer(I) -> integer_to_list(I);
json(F) when is_float(F) -> float_to_list(F, [{decimals, 4}, compact]).
