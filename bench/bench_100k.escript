#!/usr/bin/env escript
%%! -noshell +P 1048576
%%% The 100K-connection benchmark (issue 6): the demo's flow at scale, four
%%% configurations, each in a fresh VM (so one's freed memory is not the
%%% next one's RSS), measured in one run:
%%%   heap       every state on its process heap (the seeds' approach)
%%%   hibernate  the same, every process hibernated (heap shrunk to fit)
%%%   pool       every state moved into a memacct pool in compact form
%%%              (`{compact, Pool}': the process keeps a handle and hibernates)
%%%   pool_dict  the same, the pool compressing with a dictionary trained on
%%%              500 other connections' states (memacct:train_dictionary/1)
%%% A connection is hibernated or compacted right after it starts, so each
%%% node is measured as it would run that way, not after every heap grew.
%%% Each: N memacct_sim gen_servers (states built in the process, as erlmcp
%%% builds them), then memacct:decompose/1 (validated at the default 5%).
%%% Then the run waits for mseg_alloc to release the carriers
%%% it caches (memacct_collect:await_cached_segments/1) so the RSS is the
%%% settled one. Writes JSON to OUT.json and prints it.
%%%   escript bench/bench_100k.escript OUT.json [N]
%%%   escript bench/bench_100k.escript --config heap|hibernate|pool|pool_dict N   (one VM's part)
-mode(compile).

-define(SETTLE_MS, 30000).

main(["--config", Config, NText]) ->
    setup(),
    N = list_to_integer(NText),
    R = run(list_to_atom(Config), N),
    %% One line of Erlang term text for the parent (see child/3).
    io:format("~w~n", [R]),
    halt(0);
main([Out | Rest]) when Rest =:= []; length(Rest) =:= 1 ->
    setup(),
    N = case Rest of [] -> 100000; [T] -> list_to_integer(T) end,
    Script = filename:absname(escript:script_name()),
    Results = [child(Script, Config, N) || Config <- [heap, hibernate, pool, pool_dict]],
    Doc = #{benchmark => <<"bench-100k">>,
            otp_release => list_to_binary(erlang:system_info(otp_release)),
            schedulers => erlang:system_info(schedulers_online),
            connections => N,
            results => Results},
    Json = memacct_collect:to_json(Doc),
    ok = file:write_file(Out, Json),
    io:format("~s~n", [Json]);
main(_) ->
    io:format("usage: escript bench/bench_100k.escript OUT.json [N]~n"),
    halt(1).

setup() ->
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    {module, memacct} = code:ensure_loaded(memacct),
    ok.

%% One configuration in a fresh VM; its last output line is the result as
%% Erlang term text.
child(Script, Config, N) ->
    io:format(standard_error, "bench-100k: ~s, ~b connections ...~n", [Config, N]),
    Port = open_port({spawn_executable, os:find_executable("escript")},
                     [{args, [Script, "--config", atom_to_list(Config), integer_to_list(N)]},
                      exit_status, {line, 1 bsl 20}, use_stdio]),
    Lines = collect(Port, []),
    Map = parse_term(lists:last(Lines)),
    io:format(standard_error, "bench-100k: ~s done~n", [Config]),
    Map.

collect(Port, Acc) ->
    receive
        {Port, {data, {eol, Line}}} -> collect(Port, [Line | Acc]);
        {Port, {data, {noeol, Line}}} -> collect(Port, [Line | Acc]);
        {Port, {exit_status, 0}} -> lists:reverse(Acc);
        {Port, {exit_status, S}} -> error({child_failed, S, lists:reverse(Acc)})
    end.

parse_term(Line) ->
    {ok, Tokens, _} = erl_scan:string(Line ++ "."),
    {ok, Term} = erl_parse:parse_term(Tokens),
    Term.

run(Config, N) ->
    T0 = erlang:monotonic_time(millisecond),
    Pool = case Config of
               pool -> {ok, Pl} = memacct_pool:new(), Pl;
               pool_dict ->
                   %% Other connections than the measured ones (1..N).
                   Train = [binary_to_term(term_to_binary(memacct_sim:connection_state(I)))
                            || I <- lists:seq(1000001, 1000500)],
                   {ok, Dict} = memacct:train_dictionary(Train),
                   {ok, Pl} = memacct_pool:new(#{dictionary => Dict}),
                   Pl;
               _ -> none
           end,
    %% Each connection is started, then (hibernate, pool) settled at once,
    %% before the next: the node looks like one that ran that way from the
    %% start, not one whose heaps all grew before they shrank.
    %% The ETF size of every state (for the compression ratio) is read
    %% before: reading a pooled state back would grow the process's heap.
    {RevPids, Etf} =
        lists:foldl(fun(I, {Ps, E}) ->
                            P = memacct_sim:start_connection(I),
                            Size = byte_size(term_to_binary(gen_server:call(P, state))),
                            ok = settle(Config, P, Pool),
                            {[P | Ps], E + Size}
                    end, {[], 0}, lists:seq(1, N)),
    Pids = lists:reverse(RevPids),
    T1 = erlang:monotonic_time(millisecond),
    true = erlang:garbage_collect(),
    Settled = case Config of
                  heap -> none;
                  _ -> memacct_collect:await_cached_segments(?SETTLE_MS)
              end,
    Opts = case Pool of none -> #{}; _ -> #{pool => Pool} end,
    {DecUs, {ok, D}} = timer:tc(memacct, decompose, [Opts#{connection_pids => Pids}]),
    #{decomposition := #{per_connection := PC, per_node := PN}, valid := Valid,
      violations := Vs} = D,
    #{state := S} = PC,
    PoolStats = case Pool of none -> #{}; _ -> maps:with([in_use, bytes_stored, bytes_allocated],
                                                         memacct_pool:stats(Pool)) end,
    R = #{config => Config,
          connections => N,
          start_ms => T1 - T0,
          settled => settled(Settled),
          decompose_ms => DecUs / 1000,
          etf_bytes_per_state => Etf / N,
          per_connection => maps:with([process_bytes, heap_bytes, off_heap_share_bytes,
                                       native_bytes, total_bytes], PC),
          state => maps:with([mean, ci_low, ci_high, sample_size, population], S),
          node => maps:with([rss_bytes, accounted_bytes, residual_bytes, residual_pct_of_rss,
                             unwritten_bound_bytes, os_mapped_bytes, connections_bytes,
                             base_overhead_bytes, native_pool_bytes], PN),
          beam_total => maps:get(total, maps:get(beam, PN)),
          pool => PoolStats,
          valid => Valid,
          violations => [maps:with([rule, message], V) || V <- Vs]},
    memacct_sim:stop_connections(Pids),
    R.

settle(heap, _P, _Pool) -> ok;
settle(hibernate, P, _Pool) -> gen_server:call(P, hibernate);
settle(pool, P, Pool) -> {ok, _} = gen_server:call(P, {compact, Pool}), ok;
settle(pool_dict, P, Pool) -> settle(pool, P, Pool).

settled(none) -> null;
settled({ok, Ms}) -> #{waited_ms => Ms};
settled({timeout, Left}) -> #{timeout_ms => ?SETTLE_MS, still_cached => Left}.
