#!/usr/bin/env escript
%%! -noshell +sbwt none
%%% State-pool benchmark inside the BEAM (memacct_pool vs the seed's design,
%%% same run):
%%%   (a) acquire + release round trip from Erlang: memacct_pool (NIF, owned
%%%       by the caller) vs a gen_server + queue + ETS pool built as seeds
%%%       001/002 describe (acquire = gen_server:call that pops a ref from a
%%%       queue and inserts the data in ETS; release = cast that deletes it
%%%       and pushes the ref back);
%%%   (b) memacct_pool throughput with 2 schedulers online vs 1 (the same
%%%       work split over N processes), and the seed's pool under the same
%%%       N processes;
%%%   (a') what each round trip is made of, same run: term_to_binary/1 of the
%%%       value, the cheapest pool NIF call (contains), and inside the seed's
%%%       gen_server the ETS insert + delete alone (no messages);
%%%   (c) hit ratio of each policy on a Zipf trace and a scan-heavy trace at
%%%       the same capacity (one shard: exact policy order; put on a miss,
%%%       get on a hit, a key -> handle map; a stale handle is a miss).
%%% Writes JSON to OUT.json and prints it.
%%%   escript bench/pool_bench.escript OUT.json
-mode(compile).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2]).

-define(ROUNDS, 5).
-define(OPS, 200000).

main([Out]) ->
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    {module, memacct_pool} = code:ensure_loaded(memacct_pool),
    Data = #{id => <<"conn-00042">>, phase => initialization, transport => tcp},
    %% (a)
    {ok, P} = memacct_pool:new(#{}),
    Memacct = ns_per_op(fun() -> memacct_loop(P, Data, ?OPS) end, ?OPS),
    {ok, Srv} = gen_server:start(?MODULE, 1000, []),
    Seed = ns_per_op(fun() -> seed_loop(Srv, Data, ?OPS), sync = gen_server:call(Srv, sync) end, ?OPS),
    %% (a')
    Parts = #{term_to_binary_ns => ns_per_op(fun() -> t2b_loop(Data, ?OPS) end, ?OPS),
              pool_contains_call_ns => ns_per_op(fun() -> contains_loop(P, ?OPS) end, ?OPS),
              seed_ets_insert_delete_ns => ns_per_op(fun() -> ets_loop(Data, ?OPS) end, ?OPS),
              seed_call_cast_ns => ns_per_op(fun() -> noop_loop(Srv, ?OPS), sync = gen_server:call(Srv, sync) end,
                                             ?OPS)},
    %% A realistic connection state (about 4 KiB of ETF), stored compressed
    %% (the default), compressed with a dictionary trained on 500 other
    %% connections, and stored as plain ETF (`compress_min_bytes => infinity',
    %% which is what the seed's ETS table holds: the term, uncompressed).
    State = binary_to_term(term_to_binary(memacct_sim:connection_state(7))),
    {ok, Dict} = memacct:train_dictionary([binary_to_term(term_to_binary(memacct_sim:connection_state(N)))
                                           || N <- lists:seq(1000001, 1000500)]),
    {ok, PDict} = memacct_pool:new(#{dictionary => Dict}),
    {ok, PRaw} = memacct_pool:new(#{compress_min_bytes => infinity}),
    StateOps = ?OPS div 10,
    MemacctState = ns_per_op(fun() -> memacct_loop(P, State, StateOps) end, StateOps),
    MemacctStateDict = ns_per_op(fun() -> memacct_loop(PDict, State, StateOps) end, StateOps),
    MemacctStateRaw = ns_per_op(fun() -> memacct_loop(PRaw, State, StateOps) end, StateOps),
    SeedState = ns_per_op(fun() -> seed_loop(Srv, State, StateOps), sync = gen_server:call(Srv, sync) end,
                          StateOps),
    %% What the pool holds for one value (read from its stats, the pool empty
    %% otherwise).
    StoredBytes = fun(Pool, Value) ->
                          {ok, H} = memacct_pool:acquire(Pool, session, Value),
                          #{bytes_stored := B} = memacct_pool:stats(Pool),
                          ok = memacct_pool:release(Pool, H),
                          B
                  end,
    %% (b)
    Online = erlang:system_info(schedulers_online),
    Procs = 8,
    PerProc = 100000,
    {ok, P2} = memacct_pool:new(#{}),
    Tput = fun(S) ->
                   erlang:system_flag(schedulers_online, S),
                   Ns = best(fun() -> parallel(P2, Data, Procs, PerProc) end),
                   Procs * PerProc / (Ns / 1.0e9)
           end,
    T1 = Tput(1),
    T2 = Tput(min(2, erlang:system_info(schedulers))),
    erlang:system_flag(schedulers_online, Online),
    %% The same 8 processes against the seed's single gen_server.
    SeedTput = Procs * PerProc / (best(fun() -> seed_parallel(Srv, Data, Procs, PerProc) end) / 1.0e9),
    %% (c)
    Capacity = 1000,
    Keys = 20000,
    Zipf = zipf_trace(Keys, 0.99, 200000, 1),
    Scan = scan_trace(Keys, 0.99, 200000, 2, Capacity),
    Policies = [lru, lfu, fifo, ttl, random, s3fifo],
    Hits = fun(Trace) -> maps:from_list([{P0, hit_ratio(P0, Capacity, Trace)} || P0 <- Policies]) end,
    Result = #{otp => list_to_binary(erlang:system_info(otp_release)),
               schedulers => erlang:system_info(schedulers),
               roundtrip_small_value => #{memacct_pool_ns_per_op => Memacct,
                                          seed_genserver_ets_ns_per_op => Seed,
                                          speedup => Seed / Memacct,
                                          value_etf_bytes => byte_size(term_to_binary(Data)),
                                          stored_bytes => StoredBytes(P, Data),
                                          ops => ?OPS,
                                          parts => Parts},
               roundtrip_connection_state => #{memacct_pool_ns_per_op => MemacctState,
                                               seed_genserver_ets_ns_per_op => SeedState,
                                               speedup => SeedState / MemacctState,
                                               value_etf_bytes => byte_size(term_to_binary(State)),
                                               stored_bytes => StoredBytes(P, State),
                                               ops => StateOps},
               roundtrip_connection_state_dictionary =>
                   #{memacct_pool_ns_per_op => MemacctStateDict,
                     seed_genserver_ets_ns_per_op => SeedState,
                     speedup => SeedState / MemacctStateDict,
                     value_etf_bytes => byte_size(term_to_binary(State)),
                     stored_bytes => StoredBytes(PDict, State),
                     ops => StateOps},
               roundtrip_connection_state_plain_etf =>
                   #{memacct_pool_ns_per_op => MemacctStateRaw,
                     seed_genserver_ets_ns_per_op => SeedState,
                     speedup => SeedState / MemacctStateRaw,
                     value_etf_bytes => byte_size(term_to_binary(State)),
                     stored_bytes => StoredBytes(PRaw, State),
                     ops => StateOps},
               scaling => #{processes => Procs, ops_per_process => PerProc,
                            ops_per_sec_1_scheduler => T1,
                            ops_per_sec_2_schedulers => T2,
                            speedup => T2 / T1,
                            seed_ops_per_sec => SeedTput,
                            speedup_vs_seed => T2 / SeedTput},
               hit_ratio => #{capacity => Capacity, keys => Keys,
                              zipf_s => 0.99, requests => 200000,
                              zipf => Hits(Zipf),
                              scan_heavy => Hits(Scan)}},
    Json = iolist_to_binary(json(Result)),
    ok = file:write_file(Out, [Json, $\n]),
    io:format("~s~n", [Json]);
main(_) ->
    io:format("usage: escript bench/pool_bench.escript OUT.json~n"),
    halt(2).

%%% (a) -----------------------------------------------------------------------

memacct_loop(_P, _Data, 0) -> ok;
memacct_loop(P, Data, N) ->
    {ok, H} = memacct_pool:acquire(P, session, Data),
    ok = memacct_pool:release(P, H),
    memacct_loop(P, Data, N - 1).

%% The parts, each over the same number of operations.
t2b_loop(Data, N) ->
    t2b_loop(Data, N, <<>>).

%% The last binary is returned, so the compiler cannot drop the calls.
t2b_loop(_Data, 0, Last) -> Last;
t2b_loop(Data, N, _) ->
    t2b_loop(Data, N - 1, term_to_binary(Data)).

contains_loop(_P, 0) -> ok;
contains_loop(P, N) ->
    _ = memacct_pool:contains(P, N),
    contains_loop(P, N - 1).

%% The seed's table work for one acquire + release, without the gen_server.
ets_loop(Data, N) ->
    Tab = ets:new(seed_pool, [public, {write_concurrency, true}, {read_concurrency, true}]),
    Ref = make_ref(),
    ets_loop(Tab, Ref, Data, N),
    ets:delete(Tab).

ets_loop(_Tab, _Ref, _Data, 0) -> ok;
ets_loop(Tab, Ref, Data, N) ->
    true = ets:insert(Tab, {Ref, {Data, erlang:system_time(millisecond)}}),
    true = ets:delete(Tab, Ref),
    ets_loop(Tab, Ref, Data, N - 1).

%% The seed's messaging for one acquire + release, with no work behind it: a
%% call and a cast the server answers and drops.
noop_loop(_Srv, 0) -> ok;
noop_loop(Srv, N) ->
    noop = gen_server:call(Srv, noop),
    gen_server:cast(Srv, noop),
    noop_loop(Srv, N - 1).

seed_loop(_Srv, _Data, 0) -> ok;
seed_loop(Srv, Data, N) ->
    {ok, Ref} = gen_server:call(Srv, {acquire_connection_state, Data}),
    gen_server:cast(Srv, {release_connection_state, Ref}),
    seed_loop(Srv, Data, N - 1).

%% The seed's pool: a queue of pre-made refs, an ETS table of live data,
%% stats in the state (as erlmcp_memory_pool did it).
init(Size) ->
    Tab = ets:new(seed_pool, [public, {write_concurrency, true}, {read_concurrency, true}]),
    Q = lists:foldl(fun(_, Q0) -> queue:in(make_ref(), Q0) end, queue:new(), lists:seq(1, Size)),
    {ok, #{tab => Tab, q => Q, in_use => 0, reused => 0, created => 0}}.

handle_call({acquire_connection_state, Data}, _From, #{tab := Tab, q := Q} = S) ->
    case queue:out(Q) of
        {{value, Ref}, Q2} ->
            ets:insert(Tab, {Ref, {Data, erlang:system_time(millisecond)}}),
            {reply, {ok, Ref}, S#{q := Q2, in_use := maps:get(in_use, S) + 1,
                                  reused := maps:get(reused, S) + 1}};
        {empty, _} ->
            Ref = make_ref(),
            ets:insert(Tab, {Ref, {Data, erlang:system_time(millisecond)}}),
            {reply, {ok, Ref}, S#{in_use := maps:get(in_use, S) + 1,
                                  created := maps:get(created, S) + 1}}
    end;
handle_call(sync, _From, S) ->
    {reply, sync, S};
handle_call(noop, _From, S) ->
    {reply, noop, S}.

handle_cast({release_connection_state, Ref}, #{tab := Tab, q := Q} = S) ->
    ets:delete(Tab, Ref),
    {noreply, S#{q := queue:in(Ref, Q), in_use := maps:get(in_use, S) - 1}};
handle_cast(noop, S) ->
    {noreply, S}.

%%% (b) -----------------------------------------------------------------------

parallel(P, Data, Procs, PerProc) ->
    Self = self(),
    Pids = [spawn_link(fun() -> receive go -> ok end,
                                memacct_loop(P, Data, PerProc),
                                Self ! {done, self()}
                       end) || _ <- lists:seq(1, Procs)],
    [Pid ! go || Pid <- Pids],
    [receive {done, Pid} -> ok end || Pid <- Pids],
    ok.

seed_parallel(Srv, Data, Procs, PerProc) ->
    Self = self(),
    Pids = [spawn_link(fun() -> receive go -> ok end,
                                seed_loop(Srv, Data, PerProc),
                                Self ! {done, self()}
                       end) || _ <- lists:seq(1, Procs)],
    [Pid ! go || Pid <- Pids],
    [receive {done, Pid} -> ok end || Pid <- Pids],
    sync = gen_server:call(Srv, sync),
    ok.

%%% (c) -----------------------------------------------------------------------

hit_ratio(Policy, Capacity, Trace) ->
    {ok, P} = memacct_pool:new(#{max_entries => Capacity, policy => Policy, shards => 1,
                                 on_full => evict, seed => 42}),
    %% The TTL policy needs TTLs: each entry gets one proportional to its
    %% key's rank (hot keys live longer), all far beyond the run.
    Put = case Policy of
              ttl -> fun(K) -> memacct_pool:put(P, cache, K, #{ttl_ms => 3600000 + 1000 * (100000 - min(K, 100000))}) end;
              _ -> fun(K) -> memacct_pool:put(P, cache, K) end
          end,
    {Hits, _} = lists:foldl(
                  fun(K, {H, M}) ->
                          case M of
                              #{K := Handle} ->
                                  case memacct_pool:get(P, Handle) of
                                      {ok, K} -> {H + 1, M};
                                      {error, {stale_handle, _}} ->
                                          {ok, H2} = Put(K), {H, M#{K := H2}}
                                  end;
                              _ ->
                                  {ok, H2} = Put(K), {H, M#{K => H2}}
                          end
                  end, {0, #{}}, Trace),
    Hits / length(Trace).

%% Requests drawn from Zipf(s) over 1..Keys (rank 1 hottest), deterministic.
zipf_trace(Keys, S, N, Seed) ->
    _ = rand:seed(exsss, {Seed, 7, 11}),
    Cdf = zipf_cdf(Keys, S),
    [zipf_draw(Cdf) || _ <- lists:seq(1, N)].

zipf_cdf(Keys, S) ->
    Ws = [1 / math:pow(K, S) || K <- lists:seq(1, Keys)],
    Total = lists:sum(Ws),
    {Cum, _} = lists:mapfoldl(fun(W, Acc) -> {Acc + W / Total, Acc + W / Total} end, 0.0, Ws),
    list_to_tuple(Cum).

zipf_draw(Cdf) ->
    U = rand:uniform(),
    bsearch(Cdf, U, 1, tuple_size(Cdf)).

bsearch(_Cdf, _U, Lo, Hi) when Lo >= Hi -> Lo;
bsearch(Cdf, U, Lo, Hi) ->
    Mid = (Lo + Hi) div 2,
    case element(Mid, Cdf) >= U of
        true -> bsearch(Cdf, U, Lo, Mid);
        false -> bsearch(Cdf, U, Mid + 1, Hi)
    end.

%% The Zipf trace with a sequential scan of never-seen keys (2 × capacity
%% long) every 5,000 requests: one-hit keys that flush recency-based caches.
scan_trace(Keys, S, N, Seed, Capacity) ->
    Base = zipf_trace(Keys, S, N, Seed),
    scan_insert(Base, 0, Keys + 1, Capacity, []).

scan_insert([], _I, _Next, _Cap, Acc) ->
    lists:reverse(Acc);
scan_insert([K | T], I, Next, Cap, Acc) when I > 0, I rem 5000 =:= 0 ->
    Scan = lists:seq(Next, Next + 2 * Cap - 1),
    scan_insert(T, I + 1, Next + 2 * Cap, Cap, [K | lists:reverse(Scan, Acc)]);
scan_insert([K | T], I, Next, Cap, Acc) ->
    scan_insert(T, I + 1, Next, Cap, [K | Acc]).

%%% Timing and JSON --------------------------------------------------------------

ns_per_op(F, Ops) ->
    F(),
    best(F) / Ops.

best(F) ->
    lists:min([begin
                   garbage_collect(),
                   T0 = erlang:monotonic_time(),
                   F(),
                   erlang:convert_time_unit(erlang:monotonic_time() - T0, native, nanosecond)
               end || _ <- lists:seq(1, ?ROUNDS)]).

json(M) when is_map(M) ->
    ["{", lists:join(",", [[json(atom_to_binary(K)), ":", json(V)]
                           || {K, V} <- lists:sort(maps:to_list(M))]), "}"];
json(B) when is_binary(B) -> [$", B, $"];
json(I) when is_integer(I) -> integer_to_list(I);
json(F) when is_float(F) -> float_to_list(F, [{decimals, 4}, compact]).
