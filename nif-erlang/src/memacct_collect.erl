%%% @doc The memory snapshot collector: what one node measures about itself,
%%% as the map `docs/SNAPSHOT.md' (format v1) describes, plus its JSON.
%%%
%%% This module only <em>measures</em>; every computation on a snapshot
%%% (decomposition, validation, reports, aggregates) is done by the Rust core
%%% through {@link memacct_decompose}. It needs no NIF itself (the state
%%% sizes use `erts_debug:size_shared/1'; the pool figures use the NIF).
%%%
%%% == What is measured, and how ==
%%% <dl>
%%% <dt>Connection processes</dt><dd>`process_info(P, [memory, binary])'
%%%   for every distinct pid given, in parallel chunks (one worker per
%%%   scheduler): a pid given more than once is measured once (`count' is
%%%   the distinct pids; the extra occurrences are counted in
%%%   `duplicates'), and a pid that is dead (or dies while measured) is
%%%   skipped and counted in `dead'. The `memory' figures are summed into `process_bytes_total' and
%%%   kept one per connection in `process_bytes'. The heap reserve — heap a
%%%   process has allocated but not written yet (young block − used − stack,
%%%   old block − used, from `garbage_collection_info'): in `memory', but
%%%   the OS counts its pages only once written — is measured on the state
%%%   sample's processes (`heap_reserve_sample', one figure each; the core
%%%   scales their mean to the alive connections, an estimate), or on every
%%%   pid with `heap_reserve => all' (`heap_reserve_bytes_total', exact, at
%%%   about twice the scan's cost).</dd>
%%% <dt>Connection states</dt><dd>Measured on a random sample (option
%%%   `sample', default 200): `sys:get_state(P, StateTimeout)' copies the
%%%   state here and `erts_debug:size_shared/1' × word size sizes it. A call
%%%   that times out is counted in `timeouts' (a process that does not
%%%   answer system messages — not a `gen_server', `gen_statem' or other
%%%   `sys'-compliant process — also times out, and keeps the system message
%%%   in its queue); one whose process died meanwhile is counted in
%%%   `state_failures'. Several calls run at once (`concurrency'), so many
%%%   timeouts cost `ceil(Timeouts / Concurrency) × StateTimeout', not
%%%   `Timeouts × StateTimeout'. A state's size is the heap words it
%%%   occupies: `erts_debug:size_shared/1' counts a sub-term shared inside
%%%   it once and a module literal (which lives in the literal area, not on
%%%   any heap) not at all. `erts_debug:flat_size/1' — what the state costs
%%%   once copied or serialized — counts each literal once per reference:
%%%   for erlmcp-like states built around literal maps and keys it is ~1.7×
%%%   larger, more than the whole memory of a hibernated process. The copy
%%%   made by `sys:get_state/2' keeps literal references but not other
%%%   sharing, so a state sharing non-literal sub-terms is over-, never
%%%   under-estimated.</dd>
%%% <dt>Off-heap (refc) binaries</dt><dd>From the same `process_info' call:
%%%   one entry per distinct binary id, with its size, `holders' — the
%%%   binary's reference count as the VM reports it (references from every
%%%   process of the node, ETS tables, ports and NIF resources; a process
%%%   holding two references to one binary counts twice) — and
%%%   `connection_holders', the number of distinct connection processes
%%%   that reference it. Holders are thus known exactly only among the
%%%   connections; `holders' is the VM's count for the whole node.</dd>
%%% <dt>Native memory</dt><dd>`native.other_bytes' is what memacct's NIF
%%%   holds resident through its own jemalloc ({@link memacct:native_memory/0})
%%%   beyond the pools' bytes. With `pool => Pool' (or a list of pools):
%%%   `native.pool_bytes' is the pools' `bytes_allocated', and
%%%   `connections.native_bytes_total' the payload bytes of the entries the
%%%   connection processes own ({@link memacct_pool:owned_bytes/2}), exactly.</dd>
%%% <dt>Node</dt><dd>`erlang:memory/0', the allocators' carriers and blocks
%%%   (`erlang:system_info({allocator_sizes, A})' over the alloc_util
%%%   allocators, instances and `mbcs', `mbcs_pool', `sbcs' summed, as
%%%   `recon_alloc' does; the OTP 23+ per-type `blocks' list and the older
%%%   `blocks_size' entry are both read), `process_count', the emulator
%%%   flavor (`jit' or `emu'), and the resident set of the OS process from
%%%   `/proc/self/status' (`VmRSS', split into `RssAnon', `RssFile' and
%%%   `RssShmem' when the kernel has them). Elsewhere than
%%%   Linux, pass `rss_bytes' or the snapshot is `{error, {rss_unavailable,
%%%   Message}}' — never `erlang:memory(total)' under another name.</dd>
%%% </dl>
%%%
%%% Order: connection processes, states, infrastructure, pools, then
%%% `erlang:memory/0', allocators and RSS last, close together, so the node
%%% figures include the collector's own working memory (its process is not
%%% a connection: it lands in the node's base overhead).
-module(memacct_collect).

-export([snapshot/1, cluster_snapshot/2, to_json/1, encode/1, write/2, local_pids/1,
         os_rss/0, allocator_bytes/0, cached_segments/0, await_cached_segments/1]).

-compile(warn_missing_spec_all).

-type pids() :: [pid()] | {module(), atom(), [term()]}.
%% A list of local pids, or `{M, F, A}' called on the measured node to get
%% them (what {@link cluster_snapshot/2} needs: each node lists its own).

-type sample() :: non_neg_integer() | all | {fraction, float()}.

-type options() :: #{connection_pids := pids(),
                     infrastructure_pids => pids(),
                     server_pid => pid() | undefined,
                     registry_pid => pid() | undefined,
                     supervisor_pids => [pid()],
                     sample => sample(),
                     state_timeout => timeout(),
                     concurrency => pos_integer(),
                     pool => term() | [term()],
                     rss_bytes => non_neg_integer(),
                     process_bytes => boolean(),
                     heap_reserve => sample | all,
                     seed => integer() | {integer(), integer(), integer()},
                     atom() => term()}.
%% <dl>
%% <dt>`connection_pids'</dt><dd>The connection processes (required). A
%%   pid listed several times counts once; `connections.duplicates' says
%%   how many repeats were dropped.</dd>
%% <dt>`infrastructure_pids'</dt><dd>Server, registry, supervisors...: their
%%   process memory is reported apart (it is part of the node's base
%%   overhead). The seed's `server_pid', `registry_pid' and
%%   `supervisor_pids' are added to it.</dd>
%% <dt>`sample'</dt><dd>How many states to measure: a count (default 200; 0: none),
%%   `all', or `{fraction, F}' of the alive connections (at least 1).</dd>
%% <dt>`state_timeout'</dt><dd>Milliseconds per `sys:get_state/2' call;
%%   default 1000.</dd>
%% <dt>`concurrency'</dt><dd>State calls in flight at once; default 32.</dd>
%% <dt>`pool'</dt><dd>A memacct pool, or a list of them (see above).</dd>
%% <dt>`rss_bytes'</dt><dd>The node's resident set, when `/proc' has none.</dd>
%% <dt>`process_bytes'</dt><dd>Keep every connection's process memory in
%%   the snapshot (default `true'; the aggregates use it).</dd>
%% <dt>`heap_reserve'</dt><dd>`sample' (default): the heap reserve is
%%   estimated from the state sample's processes; `all': measured on every
%%   connection.</dd>
%% <dt>`seed'</dt><dd>A `rand' seed (`exsss': an integer or a tuple of three
%%   integers) for a reproducible sample.</dd>
%% </dl>
%% Other keys (e.g. `tolerance', read by {@link memacct_decompose}) are
%% ignored here.

-type snapshot() :: #{atom() => term()}.
%% The snapshot map of `docs/SNAPSHOT.md', with atom keys; {@link to_json/1}
%% writes it as JSON.

-type error() :: {error, {atom(), binary()}}.

-export_type([options/0, snapshot/0, pids/0, sample/0]).

-define(DEFAULT_SAMPLE, 200).
-define(DEFAULT_STATE_TIMEOUT, 1000).
-define(DEFAULT_CONCURRENCY, 32).

%%% ---------------------------------------------------------------------------
%%% Snapshot

%% @doc Measures this node (see the module documentation) and returns the
%% snapshot map.
%%
%% ```
%% 1> Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, 3)].
%% 2> {ok, S} = memacct_collect:snapshot(#{connection_pids => Pids, sample => 0}).
%% 3> maps:with([count, duplicates, alive, dead], maps:get(connections, S)).
%% #{alive => 3,count => 3,dead => 0,duplicates => 0}
%% '''
-ifdef(TEST).
-export([in_parallel/1]).
-endif.

-spec snapshot(options()) -> {ok, snapshot()} | error().
snapshot(Opts) when is_map(Opts) ->
    try
        {ok, measure(Opts)}
    catch
        throw:{memacct_collect, Code, Msg} -> {error, {Code, Msg}}
    end;
snapshot(Opts) ->
    erlang:error(badarg, [Opts]).

-spec measure(options()) -> snapshot().
measure(Opts) ->
    Started = erlang:monotonic_time(microsecond),
    WordBytes = erlang:system_info(wordsize),
    Given = pids(maps:get(connection_pids, Opts, missing), connection_pids),
    %% A pid given twice is one process: measured, counted and sampled once.
    Conns = lists:usort(Given),
    Duplicates = length(Given) - length(Conns),
    Infra = lists:usort(pids(maps:get(infrastructure_pids, Opts, []), infrastructure_pids)
                        ++ seed_infra(Opts)),
    KeepBytes = bool_opt(Opts, process_bytes, true),
    Timeout = timeout_opt(Opts),
    Conc = pos_opt(Opts, concurrency, ?DEFAULT_CONCURRENCY),
    case maps:find(seed, Opts) of
        {ok, Seed} -> seed(Seed);
        error -> ok
    end,
    ReserveAll = case maps:get(heap_reserve, Opts, sample) of
                     all -> true;
                     sample -> false;
                     _ -> fail(invalid_option, <<"heap_reserve must be sample or all">>)
                 end,
    Scan = scan(Conns, ReserveAll),
    #{alive := AlivePids, dead := Dead, bytes_total := ProcTotal,
      bytes := ProcBytes, binaries := Bins, reserve_words := ReserveWords} = Scan,
    Alive = length(AlivePids),
    SampleN = sample_size(maps:get(sample, Opts, ?DEFAULT_SAMPLE), Alive),
    Sample = random_sample(SampleN, AlivePids),
    #{bytes := StateBytes, process_bytes := SampleProc, timeouts := Timeouts,
      failures := Failures} = measure_states(Sample, Timeout, Conc, WordBytes),
    InfraScan = scan(Infra, false),
    Reserve = case ReserveAll of
                  true -> #{heap_reserve_bytes_total => ReserveWords * WordBytes};
                  false -> #{heap_reserve_sample => reserve_sample(Sample, WordBytes)}
              end,
    {PoolBytes, PoolConnBytes} = pools(maps:get(pool, Opts, []), Conns),
    ProcessCount = erlang:system_info(process_count),
    Memory = maps:from_list(erlang:memory()),
    {Carriers, Blocks} = allocator_bytes(),
    Os = os_memory(Opts),
    Elapsed = erlang:monotonic_time(microsecond) - Started,
    Connections0 =
        #{count => length(Conns),
          duplicates => Duplicates,
          alive => Alive,
          dead => Dead,
          timeouts => Timeouts,
          state_failures => Failures,
          process_bytes_total => ProcTotal,
          state_sample => #{population => Alive,
                            requested => SampleN,
                            bytes => StateBytes,
                            process_bytes => SampleProc},
          off_heap => #{binaries => [#{bytes => Size, holders => max(Refc, Holders),
                                       connection_holders => Holders}
                                     || {Size, Refc, Holders} <- maps:values(Bins)]},
          native_bytes_total => PoolConnBytes},
    Connections = case KeepBytes of
                      true -> maps:merge(Connections0#{process_bytes => ProcBytes}, Reserve);
                      false -> maps:merge(Connections0, Reserve)
                  end,
    #{format => <<"memacct-snapshot">>,
      version => 1,
      node => atom_to_binary(node(), utf8),
      timestamp_ms => erlang:system_time(millisecond),
      otp_release => list_to_binary(erlang:system_info(otp_release)),
      word_bytes => WordBytes,
      emu_flavor => emu_flavor(),
      os => Os,
      beam => maps:with([total, processes, processes_used, system, atom, atom_used,
                         binary, code, ets], Memory),
      allocators => #{carriers_bytes => Carriers, blocks_bytes => Blocks,
                      cached_segments => cached_segments()},
      native => native(PoolBytes),
      connections => Connections,
      infrastructure => #{pids => length(Infra),
                          alive => length(maps:get(alive, InfraScan)),
                          process_bytes_total => maps:get(bytes_total, InfraScan)},
      process_count => ProcessCount,
      collector => #{elapsed_us => Elapsed,
                     state_timeout_ms => timeout_json(Timeout),
                     concurrency => Conc}}.

%% The seed's `server_pid', `registry_pid' (a pid of this node or
%% `undefined') and `supervisor_pids' (pids of this node).
-spec seed_infra(options()) -> [pid()].
seed_infra(Opts) ->
    One = fun(K) ->
                  case maps:get(K, Opts, undefined) of
                      undefined -> [];
                      P when is_pid(P), node(P) =:= node() -> [P];
                      _ -> fail(invalid_option,
                                io_lib:format("~p must be a pid of this node (~p) or undefined",
                                              [K, node()]))
                  end
          end,
    One(server_pid) ++ One(registry_pid) ++ pids(maps:get(supervisor_pids, Opts, []), supervisor_pids).

-spec pids(term(), atom()) -> [pid()].
pids(missing, Key) ->
    fail(invalid_option, io_lib:format("~p is required", [Key]));
pids({M, F, A}, Key) when is_atom(M), is_atom(F), is_list(A) ->
    pids(apply(M, F, A), Key);
pids(L, Key) when is_list(L) ->
    case local_pids(L) of
        true -> L;
        false -> fail(invalid_option,
                      io_lib:format("~p must be a proper list of pids of this node (~p)",
                                    [Key, node()]))
    end;
pids(_, Key) ->
    fail(invalid_option, io_lib:format("~p must be a list of pids or {M, F, A}", [Key])).

%% @private
%% @doc Whether `Term' is a proper list of pids of this node (memacct_pool
%% checks its arguments with it too).
-spec local_pids(term()) -> boolean().
local_pids([]) -> true;
local_pids([P | T]) when is_pid(P), node(P) =:= node() -> local_pids(T);
local_pids(_) -> false.

%% Seeds `rand' (`exsss') with the `seed' option: whatever `rand:seed/2'
%% takes (an integer, or a tuple of three integers), else invalid_option.
-spec seed(term()) -> ok.
seed(Seed) ->
    try rand:seed(exsss, Seed) of
        _ -> ok
    catch
        error:_ -> fail(invalid_option, <<"seed must be a rand seed: an integer or a tuple of "
                                          "three integers">>)
    end.

-spec bool_opt(map(), atom(), boolean()) -> boolean().
bool_opt(Opts, Key, Default) ->
    case maps:get(Key, Opts, Default) of
        B when is_boolean(B) -> B;
        _ -> fail(invalid_option, io_lib:format("~p must be a boolean", [Key]))
    end.

-spec pos_opt(map(), atom(), pos_integer()) -> pos_integer().
pos_opt(Opts, Key, Default) ->
    case maps:get(Key, Opts, Default) of
        N when is_integer(N), N > 0 -> N;
        _ -> fail(invalid_option, io_lib:format("~p must be a positive integer", [Key]))
    end.

-spec timeout_opt(map()) -> timeout().
timeout_opt(Opts) ->
    case maps:get(state_timeout, Opts, ?DEFAULT_STATE_TIMEOUT) of
        infinity -> infinity;
        T when is_integer(T), T >= 0 -> T;
        _ -> fail(invalid_option, <<"state_timeout must be a non-negative integer or infinity">>)
    end.

-spec timeout_json(timeout()) -> non_neg_integer() | null.
timeout_json(infinity) -> null;
timeout_json(T) -> T.

-spec fail(atom(), iodata()) -> no_return().
fail(Code, Msg) ->
    throw({memacct_collect, Code, iolist_to_binary(Msg)}).

%%% ---------------------------------------------------------------------------
%%% Process scan (parallel chunks)

-type bin_table() :: #{non_neg_integer() => {Size :: non_neg_integer(),
                                             Refc :: non_neg_integer(),
                                             ConnHolders :: pos_integer()}}.
-type scan() :: #{alive := [pid()], dead := non_neg_integer(),
                  bytes_total := non_neg_integer(), bytes := [non_neg_integer()],
                  reserve_words := non_neg_integer(), binaries := bin_table()}.

%% Every pid's `[memory, binary]' (and `garbage_collection_info' with
%% `Reserve'), one worker per scheduler on equal chunks.
-spec scan([pid()], boolean()) -> scan().
scan([], _Reserve) ->
    empty_scan();
scan(Pids, Reserve) ->
    Workers = max(1, min(erlang:system_info(schedulers_online), length(Pids) div 1000 + 1)),
    Chunks = chunks(Pids, Workers),
    Parts = in_parallel([fun() -> scan_chunk(Chunk, Reserve, empty_scan()) end || Chunk <- Chunks]),
    lists:foldl(fun merge_scan/2, empty_scan(), Parts).

%% Runs each fun in a process of its own and returns their results in
%% order. Workers are monitored, not linked: one that crashes fails the
%% collection with `{worker_failed, Msg}' (the others are killed, and none
%% of their messages is left in the caller's mailbox) instead of killing the
%% caller over a link (or, when it traps exits, leaving it waiting forever).
%% A guard process kills the workers when the caller dies first, so none
%% goes on calling `sys:get_state/2' for nobody.
-spec in_parallel([fun(() -> T)]) -> [T].
in_parallel(Funs) ->
    Parent = self(),
    Workers = [spawn_monitor(fun() -> Parent ! {self(), F()} end) || F <- Funs],
    Guard = spawn(fun() -> guard(monitor(process, Parent), [P || {P, _} <- Workers]) end),
    try
        collect(Workers, [])
    after
        exit(Guard, kill)
    end.

-spec guard(reference(), [pid()]) -> ok.
guard(Mon, Pids) ->
    receive
        {'DOWN', Mon, process, _, _} ->
            _ = [exit(P, kill) || P <- Pids],
            ok
    end.

-spec collect([{pid(), reference()}], [T]) -> [T].
collect([], Acc) ->
    lists:reverse(Acc);
collect([{Pid, Mon} | Rest], Acc) ->
    receive
        {Pid, Result} ->
            erlang:demonitor(Mon, [flush]),
            collect(Rest, [Result | Acc]);
        {'DOWN', Mon, process, Pid, Reason} ->
            stop_workers(Rest),
            fail(worker_failed, io_lib:format("a collector worker failed: ~0tP", [Reason, 20]))
    end.

%% Kills the workers and waits for each one's 'DOWN': a result it sent
%% before dying is then already here, and is dropped.
-spec stop_workers([{pid(), reference()}]) -> ok.
stop_workers(Workers) ->
    _ = [exit(P, kill) || {P, _} <- Workers],
    _ = [receive
             {'DOWN', M, process, P, _} ->
                 receive {P, _} -> ok after 0 -> ok end
         end || {P, M} <- Workers],
    ok.

-spec empty_scan() -> scan().
empty_scan() ->
    #{alive => [], dead => 0, bytes_total => 0, bytes => [], reserve_words => 0,
      binaries => #{}}.

%% Heap words a process has allocated but not written yet: the young heap
%% block minus its used part and the stack (which grows down from the
%% block's end), plus the old heap block minus its used part. They are in
%% `process_info(P, memory)'; the OS counts a page of them only once written.
-spec heap_reserve_words([{atom(), non_neg_integer()}]) -> non_neg_integer().
heap_reserve_words(Gc) ->
    G = fun(K) -> case lists:keyfind(K, 1, Gc) of {K, V} -> V; false -> 0 end end,
    max(0, G(heap_block_size) - G(heap_size) - G(stack_size))
        + max(0, G(old_heap_block_size) - G(old_heap_size)).

-spec scan_chunk([pid()], boolean(), scan()) -> scan().
scan_chunk([], _Reserve, Acc) ->
    Acc;
scan_chunk([P | Rest], false, #{alive := Alive, dead := Dead, bytes_total := Total,
                                bytes := Bytes, binaries := Bins} = Acc) ->
    case erlang:process_info(P, [memory, binary]) of
        [{memory, M}, {binary, BinList}] ->
            scan_chunk(Rest, false,
                       Acc#{alive := [P | Alive], bytes_total := Total + M, bytes := [M | Bytes],
                            binaries := add_binaries(lists:ukeysort(1, BinList), Bins)});
        undefined ->
            scan_chunk(Rest, false, Acc#{dead := Dead + 1})
    end;
scan_chunk([P | Rest], true, #{alive := Alive, dead := Dead, bytes_total := Total,
                               bytes := Bytes, binaries := Bins,
                               reserve_words := Reserve} = Acc) ->
    case erlang:process_info(P, [memory, binary, garbage_collection_info]) of
        [{memory, M}, {binary, BinList}, {garbage_collection_info, Gc}] ->
            scan_chunk(Rest, true,
                       Acc#{alive := [P | Alive], bytes_total := Total + M, bytes := [M | Bytes],
                            reserve_words := Reserve + heap_reserve_words(Gc),
                            binaries := add_binaries(lists:ukeysort(1, BinList), Bins)});
        undefined ->
            scan_chunk(Rest, true, Acc#{dead := Dead + 1})
    end.

%% The heap reserve of each of the state sample's processes still alive,
%% in bytes (`garbage_collection_info' costs as much as `memory' and
%% `binary' together, so not on every pid by default); the core scales the
%% mean to the alive connections.
-spec reserve_sample([pid()], pos_integer()) -> [non_neg_integer()].
reserve_sample(Sample, WordBytes) ->
    [heap_reserve_words(Gc) * WordBytes
     || P <- Sample,
        {garbage_collection_info, Gc} <- [erlang:process_info(P, garbage_collection_info)]].

-spec add_binaries([{non_neg_integer(), non_neg_integer(), non_neg_integer()}], bin_table()) ->
          bin_table().
add_binaries([], Bins) ->
    Bins;
add_binaries([{Id, Size, Refc} | Rest], Bins) ->
    case Bins of
        #{Id := {S, R, H}} -> add_binaries(Rest, Bins#{Id := {S, max(R, Refc), H + 1}});
        #{} -> add_binaries(Rest, Bins#{Id => {Size, Refc, 1}})
    end.

-spec merge_scan(scan(), scan()) -> scan().
merge_scan(#{alive := A1, dead := D1, bytes_total := T1, bytes := B1, binaries := Bin1,
             reserve_words := R1},
           #{alive := A2, dead := D2, bytes_total := T2, bytes := B2, binaries := Bin2,
             reserve_words := R2}) ->
    Merged = maps:fold(fun(Id, {S, R, H}, Acc) ->
                               case Acc of
                                   #{Id := {S2, R2, H2}} -> Acc#{Id := {max(S, S2), max(R, R2), H + H2}};
                                   #{} -> Acc#{Id => {S, R, H}}
                               end
                       end, Bin2, Bin1),
    #{alive => A1 ++ A2, dead => D1 + D2, bytes_total => T1 + T2, bytes => B1 ++ B2,
      reserve_words => R1 + R2, binaries => Merged}.

-spec chunks([T], pos_integer()) -> [[T]].
chunks(L, 1) ->
    [L];
chunks(L, N) ->
    Size = (length(L) + N - 1) div N,
    chunks_of(L, Size, []).

-spec chunks_of([T], pos_integer(), [[T]]) -> [[T]].
chunks_of([], _Size, Acc) ->
    lists:reverse(Acc);
chunks_of(L, Size, Acc) when length(L) =< Size ->
    lists:reverse([L | Acc]);
chunks_of(L, Size, Acc) ->
    {H, T} = lists:split(Size, L),
    chunks_of(T, Size, [H | Acc]).

%%% ---------------------------------------------------------------------------
%%% State sample

-spec sample_size(term(), non_neg_integer()) -> non_neg_integer().
sample_size(all, Alive) ->
    Alive;
sample_size(N, Alive) when is_integer(N), N >= 0 ->
    min(N, Alive);
sample_size({fraction, F}, Alive) when is_number(F), F >= 0, F =< 1 ->
    case Alive of
        0 -> 0;
        _ -> min(Alive, max(1, round(F * Alive)))
    end;
sample_size(_, _) ->
    fail(invalid_option, <<"sample must be a non-negative integer, all or {fraction, F} with F in 0..1">>).

%% `N' distinct elements drawn uniformly from `L' (all of them when N >= length).
-spec random_sample(non_neg_integer(), [T]) -> [T].
random_sample(N, L) when N >= length(L) ->
    L;
random_sample(0, _L) ->
    [];
random_sample(N, L) ->
    Tuple = list_to_tuple(L),
    Len = tuple_size(Tuple),
    Idx = draw(N, Len, #{}),
    [element(I, Tuple) || I <- maps:keys(Idx)].

-spec draw(non_neg_integer(), pos_integer(), #{pos_integer() => true}) ->
          #{pos_integer() => true}.
draw(N, _Len, Acc) when map_size(Acc) >= N ->
    Acc;
draw(N, Len, Acc) ->
    draw(N, Len, Acc#{rand:uniform(Len) => true}).

-type state_result() :: #{bytes := [non_neg_integer()],
                          process_bytes := [non_neg_integer()],
                          timeouts := non_neg_integer(),
                          failures := non_neg_integer()}.

%% `sys:get_state/2' and `erts_debug:size_shared/1' on every sampled pid, with up
%% to `Conc' calls in flight (one worker per slice). Each measured state
%% comes with its process's memory, read just before the call (same order).
-spec measure_states([pid()], timeout(), pos_integer(), pos_integer()) -> state_result().
measure_states([], _Timeout, _Conc, _WordBytes) ->
    #{bytes => [], process_bytes => [], timeouts => 0, failures => 0};
measure_states(Sample, Timeout, Conc, WordBytes) ->
    Slices = deal(Sample, min(Conc, length(Sample))),
    Results = in_parallel([fun() -> state_slice(Slice, Timeout, WordBytes, {[], [], 0, 0}) end
                           || Slice <- Slices]),
    lists:foldl(fun({B1, PB1, T1, F1}, #{bytes := B, process_bytes := PB, timeouts := T,
                                        failures := F}) ->
                        #{bytes => B1 ++ B, process_bytes => PB1 ++ PB,
                          timeouts => T + T1, failures => F + F1}
                end, #{bytes => [], process_bytes => [], timeouts => 0, failures => 0}, Results).

-type slice_acc() :: {[non_neg_integer()], [non_neg_integer()], non_neg_integer(),
                      non_neg_integer()}.

-spec state_slice([pid()], timeout(), pos_integer(), slice_acc()) -> slice_acc().
state_slice([], _Timeout, _WordBytes, Acc) ->
    Acc;
state_slice([P | Rest], Timeout, WordBytes, {Bytes, Proc, T, F} = Acc) ->
    case erlang:process_info(P, memory) of
        {memory, M} ->
            try sys:get_state(P, Timeout) of
                State ->
                    Size = erts_debug:size_shared(State) * WordBytes,
                    state_slice(Rest, Timeout, WordBytes, {[Size | Bytes], [M | Proc], T, F})
            catch
                exit:{timeout, _} ->
                    state_slice(Rest, Timeout, WordBytes, {Bytes, Proc, T + 1, F});
                %% Dead, not a sys process, or its system_get_state raised
                %% (error:{callback_failed, ...}): counted, not measured.
                _:_ ->
                    state_slice(Rest, Timeout, WordBytes, {Bytes, Proc, T, F + 1})
            end;
        undefined ->
            state_slice(Rest, Timeout, WordBytes, setelement(4, Acc, F + 1))
    end.

%% Deal `L' round-robin into `N' non-empty slices.
-spec deal([T], pos_integer()) -> [[T]].
deal(L, N) ->
    Slices = deal(L, 0, N, erlang:make_tuple(N, [])),
    [S || S <- tuple_to_list(Slices), S =/= []].

-spec deal(list(), non_neg_integer(), pos_integer(), tuple()) -> tuple().
deal([], _I, _N, Acc) ->
    Acc;
deal([H | T], I, N, Acc) ->
    K = I rem N + 1,
    deal(T, I + 1, N, setelement(K, Acc, [H | element(K, Acc)])).

%%% ---------------------------------------------------------------------------
%%% Pools, allocators, RSS

-spec pools(term(), [pid()]) -> {non_neg_integer(), non_neg_integer()}.
pools(Pools, Conns) when is_list(Pools) ->
    pools(Pools, Conns, {0, 0});
pools(Pool, Conns) ->
    pools([Pool], Conns, {0, 0}).

-spec pools(term(), [pid()], {non_neg_integer(), non_neg_integer()}) ->
          {non_neg_integer(), non_neg_integer()}.
pools([], _Conns, Acc) ->
    Acc;
pools([P | Rest], Conns, {A, C}) ->
    #{bytes_allocated := Alloc} = pool_stats(P),
    {_, Owned} = memacct_pool:owned_bytes(P, Conns),
    pools(Rest, Conns, {A + Alloc, C + Owned});
pools(_, _Conns, _Acc) ->
    fail(invalid_option, <<"pool must be a memacct_pool:pool() or a proper list of them">>).

-spec pool_stats(term()) -> map().
pool_stats(P) ->
    try memacct_pool:stats(P)
    catch error:badarg -> fail(invalid_option, <<"pool: not a memacct_pool:pool()">>)
    end.

%% @doc How many freed carriers `mseg_alloc' keeps cached, over its
%% instances. They stay mapped and resident but are in no allocator figure,
%% so they land in the residual until the cache releases them (one every
%% ~0.5 s per instance, as observed on OTP 25).
-spec cached_segments() -> non_neg_integer().
cached_segments() ->
    Status = [S || {instance, _, Info} <- mseg_info(),
                   {memkind, Kind} <- Info, {status, S} <- [lists:keyfind(status, 1, Kind)]],
    lists:sum([N || S <- Status, {cached_segments, N} <- [lists:keyfind(cached_segments, 1, S)],
                    is_integer(N)]).

-spec mseg_info() -> list().
mseg_info() ->
    case erlang:system_info({allocator, mseg_alloc}) of
        L when is_list(L) -> L;
        _ -> []
    end.

%% @doc Waits until `mseg_alloc' has released every cached segment, or
%% `TimeoutMs' passed, polling every 100 ms: `{ok, WaitedMs}' or
%% `{timeout, StillCached}'. After a mass free (e.g. moving every state off
%% the heaps) the RSS reaches its new level only then; a snapshot taken
%% before shows the cached carriers in its residual.
-spec await_cached_segments(non_neg_integer()) -> {ok, non_neg_integer()} | {timeout, pos_integer()}.
await_cached_segments(TimeoutMs) when is_integer(TimeoutMs), TimeoutMs >= 0 ->
    await_cached_segments(erlang:monotonic_time(millisecond), TimeoutMs).

-spec await_cached_segments(integer(), non_neg_integer()) ->
          {ok, non_neg_integer()} | {timeout, pos_integer()}.
await_cached_segments(Start, TimeoutMs) ->
    Waited = erlang:monotonic_time(millisecond) - Start,
    case cached_segments() of
        0 -> {ok, Waited};
        N when Waited >= TimeoutMs -> {timeout, N};
        _ -> receive after 100 -> await_cached_segments(Start, TimeoutMs) end
    end.

%% @doc `{CarriersBytes, BlocksBytes}': carrier and block sizes summed over
%% every alloc_util allocator, instance and carrier kind (`mbcs',
%% `mbcs_pool', `sbcs'), as `recon_alloc' sums them. Carriers are what the
%% VM took from the OS through its allocators; blocks what it hands out of
%% them (the difference is fragmentation and free space).
-spec allocator_bytes() -> {non_neg_integer(), non_neg_integer()}.
allocator_bytes() ->
    lists:foldl(fun(A, {C, B}) ->
                        {C1, B1} = alloc_sizes(erlang:system_info({allocator_sizes, A})),
                        {C + C1, B + B1}
                end, {0, 0}, erlang:system_info(alloc_util_allocators)).

-spec alloc_sizes(term()) -> {non_neg_integer(), non_neg_integer()}.
alloc_sizes(Instances) when is_list(Instances) ->
    lists:foldl(fun({instance, _, Info}, Acc) when is_list(Info) ->
                        lists:foldl(fun({K, L}, {C, B}) when K =:= mbcs; K =:= mbcs_pool;
                                                             K =:= sbcs ->
                                            {C + current(carriers_size, L), B + blocks(L)};
                                       (_, A) -> A
                                    end, Acc, Info);
                   (_, Acc) -> Acc
                end, {0, 0}, Instances);
alloc_sizes(_) ->
    {0, 0}.

%% Blocks of one carrier kind: OTP 23+ lists them per allocator type
%% (`{blocks, [{Type, [{size, Cur, ...}, ...]}]}'); older releases have a
%% `{blocks_size, Cur, ...}' entry.
-spec blocks(list()) -> non_neg_integer().
blocks(L) ->
    case lists:keyfind(blocks, 1, L) of
        {blocks, PerType} when is_list(PerType) ->
            lists:sum([current(size, Props) || {_Type, Props} <- PerType, is_list(Props)]);
        _ ->
            current(blocks_size, L)
    end.

-spec current(atom(), list()) -> non_neg_integer().
current(Key, L) ->
    case lists:keyfind(Key, 1, L) of
        false -> 0;
        T when tuple_size(T) >= 2, is_integer(element(2, T)) -> element(2, T);
        _ -> 0
    end.

%% The snapshot's `os' object: the RSS given as an option, or `VmRSS' and
%% its split into `RssAnon', `RssFile' and `RssShmem' from one read of
%% `/proc/self/status'.
-spec os_memory(map()) -> #{atom() => non_neg_integer() | binary()}.
os_memory(#{rss_bytes := N}) when is_integer(N), N >= 0 ->
    #{rss_bytes => N, source => <<"option rss_bytes">>};
os_memory(#{rss_bytes := _}) ->
    fail(invalid_option, <<"rss_bytes must be a non-negative integer">>);
os_memory(_) ->
    case os_status() of
        {ok, #{rss_bytes := _} = Status} -> Status#{source => <<"/proc/self/status">>};
        {error, {Code, Msg}} -> fail(Code, Msg)
    end.

%% `erlang:system_info(emu_flavor)' as a binary (`<<"jit">>' or `<<"emu">>').
-spec emu_flavor() -> binary().
emu_flavor() ->
    atom_to_binary(erlang:system_info(emu_flavor), utf8).

%% @doc The resident set of this node's OS process, in bytes: `VmRSS' of
%% `/proc/self/status' (Linux). Elsewhere `{error, {rss_unavailable, Msg}}'.
-spec os_rss() -> {ok, non_neg_integer()} | error().
os_rss() ->
    case os_status() of
        {ok, #{rss_bytes := Rss}} -> {ok, Rss};
        {error, _} = Error -> Error
    end.

%% `VmRSS' (as `rss_bytes') and, when the kernel has them (Linux 4.5+),
%% `RssAnon', `RssFile', `RssShmem' (as `rss_anon_bytes', ...) from
%% `/proc/self/status', in bytes.
-spec os_status() -> {ok, #{atom() => non_neg_integer()}} | error().
os_status() ->
    case file:read_file("/proc/self/status") of
        {ok, Status} ->
            Fields = [{rss_bytes, <<"VmRSS">>}, {rss_anon_bytes, <<"RssAnon">>},
                      {rss_file_bytes, <<"RssFile">>}, {rss_shmem_bytes, <<"RssShmem">>}],
            Found = maps:from_list(
                      [{Key, binary_to_integer(Kb) * 1024}
                       || {Key, Name} <- Fields,
                          {match, [Kb]} <- [re:run(Status, <<"^", Name/binary, ":\\s*(\\d+)\\s*kB">>,
                                                   [multiline, {capture, [1], binary}])]]),
            case Found of
                #{rss_bytes := _} -> {ok, Found};
                #{} -> {error, {rss_unavailable, <<"/proc/self/status has no VmRSS line">>}}
            end;
        {error, Reason} ->
            {error, {rss_unavailable,
                     iolist_to_binary(io_lib:format("cannot read /proc/self/status (~p): the OS "
                                                    "resident set is read on Linux only; pass "
                                                    "rss_bytes on ~p", [Reason, os:type()]))}}
    end.

%%% ---------------------------------------------------------------------------
%%% Cluster

%% @doc Snapshots of every node in `Nodes' over Erlang distribution (`erpc',
%% all nodes at once, `Timeout' milliseconds in all): the cluster snapshot
%% map `#{format => <<"memacct-cluster">>, version => 1, nodes => [...],
%% missing => [#{node, reason}]}'. A node that does not answer in time, is
%% not connected, has no memacct loaded (`undef') or fails to measure is
%% listed in `missing' with the reason — never counted as 0 bytes.
%%
%% Each node measures its own pids: lists in `Opts' are split by `node(Pid)'
%% (a node gets the pids that live on it), and `{M, F, A}' is called on every
%% node. memacct (this application's code and NIF) must be loadable on each
%% remote node.
-spec cluster_snapshot([node()], options()) -> snapshot().
cluster_snapshot(Nodes, Opts) when is_list(Nodes), is_map(Opts) ->
    Timeout = maps:get(node_timeout, Opts, 5000),
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    Reqs = [{N, request(N, node_opts(N, Opts))} || N <- lists:usort(Nodes)],
    {Snaps, Missing} =
        lists:foldl(fun({N, {error, Why}}, {S, M}) ->
                            {S, [missing(N, Why) | M]};
                       ({N, {req, Req}}, {S, M}) ->
                            Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
                            case response(Req, Left) of
                                {ok, Snap} -> {[Snap | S], M};
                                {error, Why} -> {S, [missing(N, Why) | M]}
                            end
                    end, {[], []}, Reqs),
    #{format => <<"memacct-cluster">>, version => 1,
      nodes => lists:reverse(Snaps), missing => lists:reverse(Missing)}.

-spec node_opts(node(), options()) -> options().
node_opts(N, Opts) ->
    Split = fun(K, O) ->
                    case maps:find(K, O) of
                        {ok, L} when is_list(L) -> O#{K := [P || P <- L, is_pid(P), node(P) =:= N]};
                        {ok, P} when is_pid(P), node(P) =/= N -> maps:remove(K, O);
                        _ -> O
                    end
            end,
    Keys = [connection_pids, infrastructure_pids, supervisor_pids, server_pid, registry_pid],
    maps:without([node_timeout, pool], lists:foldl(Split, Opts, Keys)).

-spec request(node(), options()) -> {req, erpc:request_id()} | {error, term()}.
request(N, NodeOpts) ->
    try
        {req, erpc:send_request(N, ?MODULE, snapshot, [NodeOpts])}
    catch
        error:{erpc, Why} -> {error, Why}
    end.

-spec response(erpc:request_id(), non_neg_integer()) -> {ok, snapshot()} | {error, term()}.
response(Req, Timeout) ->
    try erpc:receive_response(Req, Timeout) of
        {ok, Snap} -> {ok, Snap};
        {error, {Code, Msg}} -> {error, {Code, Msg}}
    catch
        error:{erpc, timeout} -> {error, timeout};
        error:{erpc, Why} -> {error, Why};
        error:{exception, undef, [{?MODULE, snapshot, _, _} | _]} -> {error, memacct_not_loaded};
        error:{exception, Why, _Stack} -> {error, {exception, Why}};
        exit:{exception, Why} -> {error, {exit, Why}};
        exit:{signal, Why} -> {error, {exit, Why}};
        throw:Why -> {error, {throw, Why}}
    end.

-spec missing(node(), term()) -> map().
missing(N, Why) ->
    Reason = case Why of
                 A when is_atom(A) -> atom_to_binary(A, utf8);
                 {Code, Msg} when is_atom(Code), is_binary(Msg) ->
                     <<(atom_to_binary(Code, utf8))/binary, ": ", Msg/binary>>;
                 _ -> iolist_to_binary(io_lib:format("~0p", [Why]))
             end,
    #{node => atom_to_binary(N, utf8), reason => Reason}.

%%% ---------------------------------------------------------------------------
%%% JSON

%% @doc The snapshot (or cluster snapshot, or any map of maps, lists,
%% integers, floats, binaries and atoms) as JSON: map keys and atoms become
%% strings, except `true', `false' and `null'; binaries must be UTF-8 and are
%% escaped as JSON requires; `undefined' is `null'.
%%
%% ```
%% 1> memacct_collect:to_json(#{a => [1, 2.5, <<"x\"y">>], b => null}).
%% <<"{\"a\":[1,2.5,\"x\\\"y\"],\"b\":null}">>
%% '''
-spec to_json(term()) -> binary().
to_json(Term) ->
    iolist_to_binary(json(Term)).

-spec json(term()) -> iodata().
json(true) -> <<"true">>;
json(false) -> <<"false">>;
json(null) -> <<"null">>;
json(undefined) -> <<"null">>;
json(I) when is_integer(I) -> integer_to_binary(I);
json(F) when is_float(F) -> float_to_binary(F, [short]);
json(B) when is_binary(B) -> string(B);
json(A) when is_atom(A) -> string(atom_to_binary(A, utf8));
json(M) when is_map(M) ->
    Pairs = lists:sort([{key(K), V} || {K, V} <- maps:to_list(M)]),
    [${, lists:join($,, [[string(K), $:, json(V)] || {K, V} <- Pairs]), $}];
json(L) when is_list(L) ->
    [$[, lists:join($,, [json(E) || E <- L]), $]];
json(Other) ->
    erlang:error({not_json, Other}).

-spec key(term()) -> binary().
key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) when is_binary(K) -> K;
key(K) when is_integer(K) -> integer_to_binary(K);
key(K) -> erlang:error({not_json_key, K}).

-spec string(binary()) -> iodata().
string(B) ->
    [$", escape(B, 0, 0, B, []), $"].

%% Copies runs of plain bytes as sub-binaries; escapes `"', `\' and controls.
-spec escape(binary(), non_neg_integer(), non_neg_integer(), binary(), iodata()) -> iodata().
escape(<<>>, Start, Len, Orig, Acc) ->
    lists:reverse([binary:part(Orig, Start, Len) | Acc]);
escape(<<C, Rest/binary>>, Start, Len, Orig, Acc) when C =:= $"; C =:= $\\; C < 16#20 ->
    Esc = case C of
              $" -> <<"\\\"">>;
              $\\ -> <<"\\\\">>;
              $\n -> <<"\\n">>;
              $\r -> <<"\\r">>;
              $\t -> <<"\\t">>;
              _ -> iolist_to_binary(io_lib:format("\\u~4.16.0b", [C]))
          end,
    escape(Rest, Start + Len + 1, 0, Orig, [Esc, binary:part(Orig, Start, Len) | Acc]);
escape(<<_, Rest/binary>>, Start, Len, Orig, Acc) ->
    escape(Rest, Start, Len + 1, Orig, Acc).

%% @doc The JSON of a snapshot ({@link to_json/1}), or
%% `{error, {bad_snapshot, Message}}' for a map holding what JSON cannot (a
%% pid, a tuple, a key that is not an atom, binary or integer).
-spec encode(map()) -> {ok, binary()} | {error, {bad_snapshot, binary()}}.
encode(Snapshot) ->
    try to_json(Snapshot) of
        Json -> {ok, Json}
    catch
        error:{not_json, V} ->
            {error, {bad_snapshot, not_json("a value JSON cannot hold: ~0tP", V)}};
        error:{not_json_key, K} ->
            {error, {bad_snapshot, not_json("a map key JSON cannot hold (keys are atoms, "
                                            "binaries or integers): ~0tP", K)}}
    end.

-spec not_json(io:format(), term()) -> binary().
not_json(Format, Term) ->
    unicode:characters_to_binary(io_lib:format(Format, [Term, 10])).

%% @doc Writes a snapshot (or a cluster snapshot) as JSON to `Path', for
%% `memacct.load_snapshot' in Python or the C surface. A map JSON cannot
%% hold is `{error, {bad_snapshot, Message}}' (nothing is written); a file
%% error is `file:write_file/2''s.
-spec write(file:name_all(), snapshot()) -> ok | {error, term()}.
write(Path, Snapshot) when is_map(Snapshot) ->
    case encode(Snapshot) of
        {ok, Json} -> file:write_file(Path, Json);
        {error, _} = E -> E
    end.

%% memacct's native memory: the pools' own accounting, and the rest of what
%% the NIF's jemalloc holds resident (codec contexts, dictionaries, jemalloc's
%% own overhead), so that nothing of memacct lands in the residual.
-spec native(non_neg_integer()) -> #{pool_bytes := non_neg_integer(),
                                     other_bytes := non_neg_integer()}.
native(PoolBytes) ->
    #{resident := Resident} = memacct:native_memory(),
    #{pool_bytes => PoolBytes, other_bytes => max(0, Resident - PoolBytes)}.
