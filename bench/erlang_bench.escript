#!/usr/bin/env escript
%%! -noshell +sbwt none
%%% Term-sizing benchmarks inside the BEAM, baseline and memacct measured in
%%% the same run on the same corpus:
%%%   ETF:  memacct:etf_flat_size(B)  vs  erts_debug:flat_size(binary_to_term(B))
%%%   live: memacct:flat_size(T)      vs  erts_debug:flat_size(T)
%%% Corpora: realistic MCP connection states (memacct_sim) and random terms
%%% over every kind (memacct_term_gen). Writes JSON for bench/report.py.
%%%   escript bench/erlang_bench.escript OUT.json
-mode(compile).

-define(ROUNDS, 7).

main([Out]) ->
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    Tmp = filename:join(Root, "target/bench-corpus"),
    ok = filelib:ensure_dir(filename:join(Tmp, "x")),
    {ok, memacct_term_gen} = compile:file(filename:join(Root, "nif-erlang/test/memacct_term_gen.erl"),
                                          [{outdir, Tmp}]),
    code:add_patha(Tmp),
    {module, memacct} = code:ensure_loaded(memacct),
    States = memacct_sim:corpus(2000),
    Random = memacct_term_gen:terms(5000, 7),
    Results = [corpus(Name, Terms) || {Name, Terms} <- [{states, States}, {random, Random}]],
    Json = json(#{otp => list_to_binary(erlang:system_info(otp_release)),
                  schedulers => erlang:system_info(schedulers_online),
                  rounds => ?ROUNDS, corpora => Results}),
    ok = file:write_file(Out, Json),
    io:format("~s~n", [Json]).

corpus(Name, Terms0) ->
    %% Terms as binary_to_term builds them (the contract's reference point).
    Bins = [term_to_binary(T) || T <- Terms0],
    Terms = [binary_to_term(B) || B <- Bins],
    %% Same answers before timing anything.
    Mismatch = length([x || {T, B} <- lists:zip(Terms, Bins),
                            memacct:etf_flat_size(B) =/= erts_debug:flat_size(T)
                                orelse memacct:flat_size(T) =/= erts_debug:flat_size(T)]),
    EtfBase = time(fun() -> [erts_debug:flat_size(binary_to_term(B)) || B <- Bins] end),
    EtfMem = time(fun() -> [memacct:etf_flat_size(B) || B <- Bins] end),
    LiveBase = time(fun() -> [erts_debug:flat_size(T) || T <- Terms] end),
    LiveMem = time(fun() -> [memacct:flat_size(T) || T <- Terms] end),
    N = length(Bins),
    #{name => atom_to_binary(Name), terms => N, etf_bytes => iolist_size(Bins),
      heap_words => lists:sum([erts_debug:flat_size(T) || T <- Terms]),
      mismatches => Mismatch,
      etf_baseline_ns_per_term => EtfBase * 1000 / N,
      etf_memacct_ns_per_term => EtfMem * 1000 / N,
      etf_speedup => EtfBase / EtfMem,
      live_baseline_ns_per_term => LiveBase * 1000 / N,
      live_memacct_ns_per_term => LiveMem * 1000 / N,
      live_time_ratio => LiveMem / LiveBase}.

%% Median wall time (microseconds) of ?ROUNDS runs, after one warm-up.
time(F) ->
    _ = F(),
    Ts = lists:sort([element(1, timer:tc(F)) || _ <- lists:seq(1, ?ROUNDS)]),
    lists:nth((?ROUNDS + 1) div 2, Ts).

json(M) when is_map(M) ->
    ["{", lists:join(",", [[json(atom_to_binary(K)), ":", json(V)] || {K, V} <- lists:sort(maps:to_list(M))]), "}"];
json(L) when is_list(L) -> ["[", lists:join(",", [json(V) || V <- L]), "]"];
json(B) when is_binary(B) -> [$", B, $"];
json(I) when is_integer(I) -> integer_to_list(I);
json(F) when is_float(F) -> float_to_list(F, [{decimals, 4}, compact]).
