#!/usr/bin/env escript
%%! -noshell +sbwt none +P 1048576
%%% Decomposition benchmark (issue 5), in one run, on real processes:
%%% N gen_servers (memacct_sim, each holding a connection state built in
%%% the process), N = 10,000 and 100,000, decomposed
%%%   - by memacct: memacct:decompose/1 (batched process_info over parallel
%%%     chunks, states sampled: 200 sys:get_state/2 calls sized by
%%%     memacct:flat_size/1, allocators, RSS, JSON, decomposition and
%%%     validation in the Rust core), and
%%%   - by the seed's approach (erlmcp_memory_accounting as the seed
%%%     describes it): for every pid process_info(P, memory),
%%%     sys:get_state(P) and erts_debug:flat_size(State), summed, plus
%%%     erlang:memory(total).
%%% Best of ROUNDS for each (the seed once at 100K). The sampling error is
%%% stated against the exact mean over all N connections of the same
%%% measure (heap words of the state, erts_debug:size_shared/1, taken
%%% untimed) vs memacct's estimate and its 95% CI half-width.
%%% Writes JSON to OUT.json and prints it.
%%%   escript bench/decompose_bench.escript OUT.json [N ...]
-mode(compile).

-define(ROUNDS, 3).

main([Out | Ns0]) ->
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    {module, memacct} = code:ensure_loaded(memacct),
    Ns = case Ns0 of
             [] -> [10000, 100000];
             _ -> [list_to_integer(N) || N <- Ns0]
         end,
    Results = [run(N) || N <- Ns],
    Doc = #{benchmark => <<"decompose">>,
            otp_release => list_to_binary(erlang:system_info(otp_release)),
            schedulers => erlang:system_info(schedulers_online),
            rounds => ?ROUNDS,
            sample => 200,
            results => Results},
    Json = memacct_collect:to_json(Doc),
    ok = file:write_file(Out, Json),
    io:format("~s~n", [Json]);
main(_) ->
    io:format("usage: escript bench/decompose_bench.escript OUT.json [N ...]~n"),
    halt(1).

run(N) ->
    Pids = memacct_sim:start_connections(N),
    erlang:garbage_collect(),
    %% memacct, ROUNDS times (a new random sample each time)
    Mem = [begin
               {T, {ok, D}} = timer:tc(memacct, decompose, [#{connection_pids => Pids}]),
               {T, D}
           end || _ <- lists:seq(1, ?ROUNDS)],
    MemUs = lists:min([T || {T, _} <- Mem]),
    %% the seed's approach
    SeedRounds = case N > 20000 of
                     true -> 1;
                     false -> ?ROUNDS
                 end,
    Seed = [timer:tc(fun() -> seed(Pids) end) || _ <- lists:seq(1, SeedRounds)],
    SeedUs = lists:min([T || {T, _} <- Seed]),
    {_, #{state_mean := SeedState, heap_mean := SeedHeap, alive := Alive}} = hd(Seed),
    %% The sampling error is judged against the same measure over every
    %% state (heap words, erts_debug:size_shared/1), taken untimed.
    FullMean = full_heap_state_mean(Pids),
    Errors = [begin
                  #{decomposition := #{per_connection := #{state := S}}} = D,
                  #{mean := Est, half_width := HW} = S,
                  #{estimate_bytes => Est,
                    half_width_bytes => HW,
                    half_width_pct_of_full_mean => 100 * HW / FullMean,
                    error_pct_of_full_mean => 100 * (Est - FullMean) / FullMean,
                    full_mean_within_ci => abs(Est - FullMean) =< HW}
              end || {_, D} <- Mem],
    {_, Last} = lists:last(Mem),
    #{decomposition := #{per_connection := PC, per_node := PN}, valid := Valid,
      violations := Vs} = Last,
    memacct_sim:stop_connections(Pids),
    erlang:garbage_collect(),
    R = #{connections => N,
          alive => Alive,
          memacct_ms => MemUs / 1000,
          seed_ms => SeedUs / 1000,
          speedup => SeedUs / MemUs,
          memacct_us_per_connection => MemUs / N,
          seed_us_per_connection => SeedUs / N,
          full_state_mean_bytes => FullMean,
          seed_heap_plus_state_bytes => SeedHeap + SeedState,
          memacct_process_bytes => maps:get(process_bytes, PC),
          memacct_total_bytes => maps:get(total_bytes, PC),
          sampling => Errors,
          rss_mib => maps:get(rss_bytes, PN) / 1048576,
          residual_pct_of_rss => maps:get(residual_pct_of_rss, PN),
          valid => Valid,
          violations => [Rule || #{rule := Rule} <- Vs]},
    io:format(standard_error,
              "~B connections: memacct ~.1f ms, seed ~.1f ms (~.1fx); state estimate error ~s% "
              "(CI half-width ~s% of the full mean); seed's per-connection figure ~B B "
              "(heap + state, double counted) vs process memory ~B B~n",
              [N, MemUs / 1000, SeedUs / 1000, SeedUs / MemUs,
               lists:join("/", [io_lib:format("~.2f", [maps:get(error_pct_of_full_mean, E)]) || E <- Errors]),
               lists:join("/", [io_lib:format("~.2f", [maps:get(half_width_pct_of_full_mean, E)]) || E <- Errors]),
               round(SeedHeap + SeedState), round(maps:get(process_bytes, PC))]),
    R.

%% The mean heap size of every state, as the collector measures a sample.
full_heap_state_mean(Pids) ->
    Word = erlang:system_info(wordsize),
    Sizes = [gen_server:call(P, heap_size) * Word || P <- Pids],
    lists:sum(Sizes) / length(Sizes).

%% The seed: every pid, one by one.
seed(Pids) ->
    Word = erlang:system_info(wordsize),
    {Heap, State, Alive} =
        lists:foldl(fun(P, {H, S, A}) ->
                            case erlang:process_info(P, memory) of
                                {memory, M} ->
                                    St = sys:get_state(P),
                                    {H + M, S + erts_debug:flat_size(St) * Word, A + 1};
                                undefined ->
                                    {H, S, A}
                            end
                    end, {0, 0, 0}, Pids),
    _Total = erlang:memory(total),
    #{heap_mean => Heap / Alive, state_mean => State / Alive, alive => Alive}.
