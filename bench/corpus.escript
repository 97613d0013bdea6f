#!/usr/bin/env escript
%%! -noshell
%%% Writes target/bench-corpus/states.etfs: realistic MCP connection states
%%% (memacct_sim) as length-prefixed ETF, for the Rust throughput benchmark.
%%%   escript bench/corpus.escript [Count]
-mode(compile).

main(Args) ->
    Count = case Args of [C] -> list_to_integer(C); [] -> 2000 end,
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    Tmp = filename:join(Root, "target/bench-corpus"),
    ok = filelib:ensure_dir(filename:join(Tmp, "x")),
    {ok, memacct_sim} = compile:file(filename:join(Root, "nif-erlang/src/memacct_sim.erl"), [{outdir, Tmp}]),
    code:add_patha(Tmp),
    Blobs = [term_to_binary(S) || S <- memacct_sim:corpus(Count)],
    Out = filename:join(Tmp, "states.etfs"),
    ok = file:write_file(Out, [[<<(byte_size(B)):32>>, B] || B <- Blobs]),
    io:format("wrote ~b states (~b bytes of ETF) to ~s~n", [Count, iolist_size(Blobs), Out]).
