%%% @doc An off-heap state pool: Erlang terms stored compactly outside every
%%% process heap, addressed by integer handles, with limits, six eviction
%%% policies, TTLs, per-process ownership with immediate reclaim, and
%%% crash-safe checkpoints.
%%%
%%% The pool is a NIF resource over `memacct_core::pool::Pool' (Rust): no
%%% gen_server, no ETS table, no sweeper process and no timers. Every call
%%% runs in the calling process; the pool is sharded (one mutex per shard),
%%% so processes on different schedulers rarely meet.
%%%
%%% == Quick start ==
%%% ```
%%% 1> {ok, P} = memacct_pool:new(#{max_entries => 10000, policy => lru}).
%%% 2> {ok, H} = memacct_pool:acquire(P, session, #{id => <<"conn-1">>, phase => init}).
%%% 3> memacct_pool:get(P, H).
%%% {ok,#{id => <<"conn-1">>,phase => init}}
%%% 4> ok = memacct_pool:release(P, H), memacct_pool:get(P, H).
%%% {error,{stale_handle,<<"stale pool handle 0x01c27ba000000000">>}}
%%% '''
%%% (Handles differ from run to run: see "Handles".)
%%%
%%% == Handles ==
%%% A handle is a positive integer (generation, shard and slot packed in 64
%%% bits). It is valid until its entry is released, evicted, expired, or
%%% reclaimed because its owner exited; any later use of it — `get',
%%% `update', `release' — is `{error, {stale_handle, Msg}}', and it can never
%%% reach the entry that later takes its slot. Handles belong to one pool:
%%% each pool starts its slot generations at a random value, so a handle of
%%% another pool (or of an earlier pool in the same place, e.g. before a
%%% restart) is `stale_handle' there rather than naming some other entry
%%% (barring a 1 in 2^32 coincidence). Restored entries get new handles:
%%% list them with {@link handles/1}.
%%%
%%% == Storage ==
%%% A value is stored as `term_to_binary(Value)': ETF shorter than
%%% `compress_min_bytes' (default 256) as is, longer ETF through memacct's
%%% codec (see {@link memacct:compress/2}; with the pool's `dictionary', if
%%% given). `get' gives back a term `=:=' to the one stored.
%%%
%%% == Ownership ==
%%% {@link acquire/3} stores an entry owned by the calling process. The pool
%%% monitors each owner process (a NIF monitor, `enif_monitor_process', set
%%% on its first acquire); when it exits, for any reason, all its entries
%%% are released at once by the monitor's callback — no message, no
%%% gen_server, no polling (an owner of more than 32,768 entries has the
%%% rest released by a NIF thread right after; see "Scheduling"). Owner ids are 64-bit numbers drawn from one
%%% VM-wide counter that starts at a random value (never a pid's internal
%%% number, which the VM reuses), so owner ids kept in a checkpoint do not
%%% collide with those of the restoring VM: restored entries have no owner
%%% process. {@link put/3} stores an entry without owner.
%%%
%%% == Limits, eviction, TTL ==
%%% `max_entries' and `max_bytes' (payload bytes after compaction) hold
%%% pool-wide and per domain exactly, across shards. When a put would pass
%%% one, `on_full => reject' answers `{error, {pool_exhausted, Msg}}'
%%% (backpressure) and `on_full => evict' (the default) evicts the policy's
%%% victim first. TTLs need no timers: an expired entry is never returned
%%% (every access checks), writes sweep a bounded number of due entries, and
%%% {@link expire/1} sweeps all of them.
%%%
%%% == Scheduling ==
%%% Puts, updates, gets, releases and the figures are O(1) in the number of
%%% entries, and bounded on a normal scheduler where they are not: a put or
%%% update that must evict more than 256 entries to make room (many small
%%% entries under a byte limit, one large payload) finishes on a dirty
%%% scheduler; an owner's exit releases up to 32,768 of its entries inside
%%% the VM's NIF monitor callback and hands any more to a thread of the
%%% NIF's own, which releases them right after (so {@link size/1} may count
%%% them for a moment). Puts, updates and gets of small payloads run on the
%%% calling normal scheduler; large ones (codec work above
%%% {@link memacct:codec_scheduling_limits/0}, payloads above
%%% `element(1, scheduling_limits())' bytes, ETF above
%%% `element(2, scheduling_limits())' bytes) move to a dirty CPU scheduler
%%% or to `binary_to_term/1'. {@link checkpoint/2}, {@link restore/2},
%%% {@link handles/1}, {@link owned_bytes/2}, {@link clear/1} and
%%% {@link expire/1} (O(entries) or O(pids)) always run on dirty
%%% schedulers.
%%%
%%% == Errors ==
%%% Results are `{error, {Code, Message}}' with `Code' one of
%%% `pool_exhausted', `stale_handle', `bad_checkpoint', `io',
%%% `invalid_option' (or a codec code for a corrupt checkpoint payload). An
%%% argument of the wrong type (not a pool, a handle outside 0..2^64-1, an
%%% unknown domain or option) raises `badarg', explained: the shell, like
%%% `erl_error:format_exception/3', prints the call and the reason under
%%% the argument at fault.
-module(memacct_pool).

-export([set_limits/2, owned_bytes/2, handles/1]).
-export([new/0, new/1, put/3, put/4, acquire/3, acquire/4, get/2, update/3,
         release/2, contains/2, stats/1, size/1, expire/1, clear/1,
         checkpoint/2, restore/2, scheduling_limits/0]).

-compile(warn_missing_spec_all).

-define(DEFAULT_LEVEL, 3).
-define(DEFAULT_COMPRESS_MIN, 256).
-define(DEFAULT_SEED, 16#6d656d6163637421).
-define(DEFAULT_TTL_RESOLUTION_MS, 1000).
-define(U64_MAX, 16#FFFFFFFFFFFFFFFF).
-define(DOMAINS, [session, shared, registry, cache, ephemeral]).
-define(IS_DOMAIN(D), (D =:= session orelse D =:= shared orelse D =:= registry
                       orelse D =:= cache orelse D =:= ephemeral)).
-define(DOMAIN_MSG, <<"domain must be one of session, shared, registry, cache, ephemeral">>).
%% A handle is an integer the NIF takes as an unsigned 64-bit one (0 and
%% handles never issued are stale, not badarg). The calls by handle check
%% only `is_integer/1' before the NIF (comparing with the bignum 2^64-1
%% costs a get about 6%): the NIF's badarg is then a handle out of range,
%% or else a pool that is not one (handle_badarg/1).
-define(HANDLE_MSG, <<"a handle is an integer in 0..2^64-1">>).

%% The public function being run, with its arguments: what an explained
%% badarg names (see memacct:raise_badarg/4).
-define(CALL(Args), {?FUNCTION_NAME, Args}).
-type call() :: {atom(), [term()]}.

-opaque pool() :: reference().
%% A pool (a NIF resource). It lives as long as a process (or
%% `persistent_term') refers to it.

-type handle() :: pos_integer().
%% An entry's address; see "Handles" above.

-type domain() :: session | shared | registry | cache | ephemeral.
%% The kind of state an entry holds: each domain has its own optional limits
%% and default TTL, and its own figures in {@link stats/1}.

-type policy() :: lru | lfu | fifo | ttl | random | s3fifo.

-type domain_options() :: #{max_entries => pos_integer(),
                            max_bytes => pos_integer(),
                            default_ttl_ms => non_neg_integer()}.

-type options() :: #{max_entries => pos_integer(),
                     max_bytes => pos_integer(),
                     shards => non_neg_integer(),
                     policy => policy(),
                     on_full => reject | evict,
                     default_ttl_ms => non_neg_integer(),
                     ttl_resolution_ms => pos_integer(),
                     domains => #{domain() => domain_options()},
                     seed => non_neg_integer(),
                     dictionary => memacct:dictionary(),
                     level => 1..22,
                     compress_min_bytes => non_neg_integer() | infinity}.
%% <dl>
%% <dt>`max_entries', `max_bytes'</dt><dd>Pool-wide limits (default: none).</dd>
%% <dt>`shards'</dt><dd>1..256; 0 (default) picks 8 × CPUs rounded to a power
%%   of two, at most 64. With one shard eviction order is exactly the
%%   policy's; with more it is exact within each shard.</dd>
%% <dt>`policy'</dt><dd>`lru' (default), `lfu', `fifo', `ttl' (soonest to
%%   expire first), `random' (seeded by `seed'), `s3fifo' (scan-resistant).</dd>
%% <dt>`on_full'</dt><dd>`evict' (default) or `reject'.</dd>
%% <dt>`default_ttl_ms'</dt><dd>TTL of entries of domains without their own
%%   (default: none).</dd>
%% <dt>`ttl_resolution_ms'</dt><dd>Granularity of the expiry wheel (default
%%   1000): sweeps remove an entry at most this late; gets never return an
%%   expired entry.</dd>
%% <dt>`domains'</dt><dd>Per-domain `max_entries', `max_bytes',
%%   `default_ttl_ms'.</dd>
%% <dt>`dictionary', `level', `compress_min_bytes'</dt><dd>How values are
%%   compacted: a trained dictionary (see {@link memacct:train_dictionary/2}),
%%   the zstd level (default 3), and the ETF size from which values are
%%   compressed (default 256; `infinity': never).</dd>
%% </dl>

-type put_options() :: #{ttl_ms => non_neg_integer() | infinity}.
%% `ttl_ms': this entry's TTL (`infinity': none) instead of its domain's.

-type pressure() :: low | medium | high | critical.
%% The tighter of entries/`max_entries' and bytes/`max_bytes': low below
%% 60%, medium below 80%, high below 90%, critical from 90%.

-type domain_stats() :: #{entries := non_neg_integer(), bytes := non_neg_integer(),
                          hits := non_neg_integer(), evicted := non_neg_integer(),
                          expired := non_neg_integer(),
                          max_entries := pos_integer() | none,
                          max_bytes := pos_integer() | none}.

-type stats() :: #{policy := policy(), shards := pos_integer(),
                   in_use := non_neg_integer(), available := non_neg_integer(),
                   created := non_neg_integer(), reused := non_neg_integer(),
                   released := non_neg_integer(), evicted := non_neg_integer(),
                   expired := non_neg_integer(), rejected := non_neg_integer(),
                   hits := non_neg_integer(), misses := non_neg_integer(),
                   bytes_stored := non_neg_integer(),
                   bytes_allocated := non_neg_integer(),
                   reuse_ratio := float(), pressure := pressure(),
                   domains := #{domain() => domain_stats()},
                   owners := non_neg_integer(), reclaimed := non_neg_integer(),
                   max_entries := pos_integer() | none,
                   max_bytes := pos_integer() | none,
                   native_allocated_bytes := non_neg_integer()}.
%% <dl>
%% <dt>`in_use'</dt><dd>Live entries (expired ones not yet swept included;
%%   gets never return those).</dd>
%% <dt>`available'</dt><dd>Freed slots kept for reuse (once half of a
%%   shard's slab is free, its free tail is given back).</dd>
%% <dt>`created', `reused'</dt><dd>Puts that took a new slot / a freed one;
%%   `reuse_ratio' is `reused / (reused + created)' (0.0 before the first
%%   put, never above 1.0).</dd>
%% <dt>`released', `evicted', `expired', `rejected'</dt><dd>Entries that
%%   left by release (including owner reclaim and `clear'), by eviction, by
%%   TTL; puts and updates refused.</dd>
%% <dt>`hits', `misses'</dt><dd>Gets that found their entry / that did not.</dd>
%% <dt>`bytes_stored'</dt><dd>Payload bytes (after compaction).</dd>
%% <dt>`bytes_allocated'</dt><dd>What the pool's storage holds: payload
%%   buffers plus slab, policy, expiry and owner structures. Released
%%   payloads are freed at once; the slab shrinks once half of a shard's
%%   slots are free, down to its highest live entry (handles name slots by
%%   index), so a drained pool returns to its baseline.</dd>
%% <dt>`owners', `reclaimed'</dt><dd>Processes monitored as owners; entries
%%   released because their owner exited.</dd>
%% <dt>`native_allocated_bytes'</dt><dd>jemalloc's `allocated' for all of
%%   memacct's native memory in this VM (every pool, dictionaries, codec
%%   contexts), from {@link memacct:native_memory/0}: the allocator's own
%%   count, next to the pool's `bytes_allocated' accounting.</dd>
%% </dl>
%% Shards are read one after another: exact when no writer runs, each
%% figure exact for some instant of the call otherwise.

-type error() :: {error, {atom(), binary()}}.

-export_type([pool/0, handle/0, domain/0, policy/0, options/0,
              domain_options/0, put_options/0, pressure/0, stats/0,
              domain_stats/0, error/0]).

%%% ---------------------------------------------------------------------------
%%% Creating

%% @doc {@link new/1} with default options: an unlimited LRU pool.
-spec new() -> {ok, pool()} | error().
new() ->
    new(#{}).

%% @doc A new, empty pool. A bad option type or an unknown option raises
%% `badarg'; a value the core refuses (e.g. `shards => 1000', `level => 30')
%% is `{error, {invalid_option, Msg}}'.
-spec new(options()) -> {ok, pool()} | error().
new(Opts) when is_map(Opts) ->
    Call = ?CALL([Opts]),
    Config = config(Opts, Call),
    with_dict(fun() -> memacct_nif:pool_new(Config) end, Opts, Call);
new(Opts) ->
    badarg(?CALL([Opts]), 1, <<"options must be a map">>).

%% @doc A new pool configured by `Opts' (as {@link new/1}) holding the entries
%% of the checkpoint at `Path', with new handles and the TTLs they had left.
%% `{error, {bad_checkpoint, _}}' for a truncated or corrupt file,
%% `{error, {io, _}}' for an unreadable one, `pool_exhausted' if the entries
%% do not fit under `on_full => reject'. Give the same `dictionary' as the
%% checkpointed pool had: entries compressed with a dictionary this pool
%% lacks (`{error, {dictionary_required, _}}') or with another one
%% (`{error, {dictionary_mismatch, _}}') refuse the whole checkpoint, as
%% does a payload that is neither ETF nor a memacct blob (a checkpoint of a
%% C or Python pool: `{error, {bad_blob, _}}').
%%
%% The restored entries have handles of the new pool, not the ones they had
%% when checkpointed (those are `stale_handle' here): {@link handles/1}
%% lists them.
%%
%% ```
%% 1> {ok, P} = memacct_pool:restore("/var/lib/app/pool.ckpt", #{}).
%% 2> [{H, memacct_pool:get(P, H)} || H <- memacct_pool:handles(P)].
%% '''
-spec restore(file:filename_all(), options()) -> {ok, pool()} | error().
restore(Path, Opts) when is_map(Opts) ->
    Call = ?CALL([Path, Opts]),
    File = path(Path, Call, 1),
    Config = config(Opts, Call),
    with_dict(fun() -> memacct_nif:pool_restore(File, Config) end, Opts, Call);
restore(Path, Opts) ->
    badarg(?CALL([Path, Opts]), 2, <<"options must be a map">>).

%% @doc Writes the live entries (domain, owner id, TTL left, payload) to
%% `Path' crash-safely (temporary file, fsync, rename, fsync of the
%% directory). Returns how many entries were written.
-spec checkpoint(pool(), file:filename_all()) -> {ok, non_neg_integer()} | error().
checkpoint(Pool, Path) ->
    Call = ?CALL([Pool, Path]),
    File = path(Path, Call, 2),
    try memacct_nif:pool_checkpoint(Pool, File)
    catch error:badarg -> not_pool(Call)
    end.

%%% ---------------------------------------------------------------------------
%%% Entries

%% @doc Stores `Value' in `Domain' without owner (it stays until released,
%% evicted or expired). `{error, {pool_exhausted, Msg}}' when a limit is
%% reached under `on_full => reject' (or nothing can be evicted).
-spec put(pool(), domain(), term()) -> {ok, handle()} | error().
put(Pool, Domain, Value) ->
    fast_store(Pool, Domain, Value, false).

%% @doc {@link put/3} with options (`ttl_ms').
-spec put(pool(), domain(), term(), put_options()) -> {ok, handle()} | error().
put(Pool, Domain, Value, Opts) ->
    store(Pool, Domain, Value, Opts, false, ?CALL([Pool, Domain, Value, Opts])).

%% @doc {@link put/3}, the entry owned by the calling process: released at
%% once when the process exits (see "Ownership").
-spec acquire(pool(), domain(), term()) -> {ok, handle()} | error().
acquire(Pool, Domain, Value) ->
    fast_store(Pool, Domain, Value, true).

%% @doc {@link acquire/3} with options (`ttl_ms').
-spec acquire(pool(), domain(), term(), put_options()) -> {ok, handle()} | error().
acquire(Pool, Domain, Value, Opts) ->
    store(Pool, Domain, Value, Opts, true, ?CALL([Pool, Domain, Value, Opts])).

%% A put without options, straight to the NIF (the hot path of a connection
%% process): the NIF checks the pool and the domain, and on `badarg' the
%% checked path below says what was wrong.
-spec fast_store(pool(), domain(), term(), boolean()) -> {ok, handle()} | error().
fast_store(Pool, Domain, Value, Owned) ->
    try
        put_etf(Pool, Domain, term_to_binary(Value), Owned, default)
    catch
        error:badarg ->
            Fun = case Owned of
                      true -> acquire;
                      false -> put
                  end,
            store(Pool, Domain, Value, #{}, Owned, {Fun, [Pool, Domain, Value]})
    end.

-spec store(pool(), domain(), term(), put_options(), boolean(), call()) ->
          {ok, handle()} | error().
store(Pool, Domain, Value, Opts, Owned, Call) when ?IS_DOMAIN(Domain), is_map(Opts) ->
    Ttl = case Opts of
              #{ttl_ms := infinity} -> none;
              #{ttl_ms := T} when is_integer(T), T >= 0, T =< ?U64_MAX -> T;
              #{ttl_ms := _} -> badarg(Call, 4, <<"ttl_ms must be a non-negative integer or infinity">>);
              _ -> default
          end,
    check_keys(Opts, [ttl_ms], Call, 4),
    Etf = term_to_binary(Value),
    %% Every other argument is checked: the NIF's badarg is the pool's.
    try put_etf(Pool, Domain, Etf, Owned, Ttl)
    catch error:badarg -> not_pool(Call)
    end;
store(_Pool, Domain, _Value, _Opts, _Owned, Call) when ?IS_DOMAIN(Domain) ->
    badarg(Call, 4, <<"options must be a map">>);
store(_Pool, _Domain, _Value, _Opts, _Owned, Call) ->
    badarg(Call, 2, ?DOMAIN_MSG).

%% Stores ETF: on this scheduler, or on a dirty one when the NIF says so.
-spec put_etf(pool(), domain(), binary(), boolean(), non_neg_integer() | none | default) ->
          {ok, handle()} | error().
put_etf(Pool, Domain, Etf, Owned, Ttl) ->
    case memacct_nif:pool_put(Pool, Domain, Etf, Owned, Ttl) of
        dirty -> memacct_nif:pool_put_dirty(Pool, Domain, Etf, Owned, Ttl);
        R -> R
    end.

%% @doc The value stored under `Handle' (an access: it counts for the
%% policy, the hit counters, and the TTL check).
-spec get(pool(), handle()) -> {ok, term()} | error().
get(Pool, Handle) when is_integer(Handle) ->
    try memacct_nif:pool_get(Pool, Handle) of
        dirty -> decoded(Pool, memacct_nif:pool_get_dirty(Pool, Handle));
        R -> decoded(Pool, R)
    catch
        error:badarg -> handle_badarg(?CALL([Pool, Handle]))
    end;
get(Pool, Handle) ->
    badarg(?CALL([Pool, Handle]), 2, ?HANDLE_MSG).

-spec decoded(pool(), memacct_nif:pool_get_result()) -> {ok, term()} | error().
decoded(_Pool, {ok, _} = R) ->
    R;
decoded(Pool, {dirty_blob, Blob}) ->
    decoded(Pool, memacct_nif:pool_decode_dirty(Pool, Blob));
decoded(_Pool, {etf, Etf}) ->
    try binary_to_term(Etf) of
        T -> {ok, T}
    catch
        error:badarg ->
            {error, {invalid_value, <<"the stored ETF is rejected by binary_to_term/1">>}}
    end;
decoded(_Pool, {error, _} = E) ->
    E.

%% @doc Replaces the value under `Handle' (an access; its TTL is unchanged).
%% A value that grows past a limit is refused (`reject') or makes room
%% (`evict') like a put.
-spec update(pool(), handle(), term()) -> ok | error().
update(Pool, Handle, Value) when is_integer(Handle) ->
    Etf = term_to_binary(Value),
    try memacct_nif:pool_update(Pool, Handle, Etf) of
        dirty -> memacct_nif:pool_update_dirty(Pool, Handle, Etf);
        R -> R
    catch
        error:badarg -> handle_badarg(?CALL([Pool, Handle, Value]))
    end;
update(Pool, Handle, Value) ->
    badarg(?CALL([Pool, Handle, Value]), 2, ?HANDLE_MSG).

%% @doc Releases the entry: its handle is stale from now on. Releasing it
%% again is `{error, {stale_handle, Msg}}' and touches nothing.
-spec release(pool(), handle()) -> ok | error().
release(Pool, Handle) when is_integer(Handle) ->
    try memacct_nif:pool_release(Pool, Handle)
    catch error:badarg -> handle_badarg(?CALL([Pool, Handle]))
    end;
release(Pool, Handle) ->
    badarg(?CALL([Pool, Handle]), 2, ?HANDLE_MSG).

%% @doc Whether `Handle' names a live, unexpired entry (not an access).
-spec contains(pool(), handle()) -> boolean().
contains(Pool, Handle) when is_integer(Handle) ->
    try memacct_nif:pool_contains(Pool, Handle)
    catch error:badarg -> handle_badarg(?CALL([Pool, Handle]))
    end;
contains(Pool, Handle) ->
    badarg(?CALL([Pool, Handle]), 2, ?HANDLE_MSG).

%%% ---------------------------------------------------------------------------
%%% The pool as a whole

%% @doc The pool's figures (see {@type stats()}).
-spec stats(pool()) -> stats().
stats(Pool) ->
    #{allocated := Native} = memacct:native_memory(),
    Stats = try memacct_nif:pool_stats(Pool)
            catch error:badarg -> not_pool(?CALL([Pool]))
            end,
    Stats#{native_allocated_bytes => Native}.

%% @doc Changes limits while the pool runs: `#{max_entries => N, max_bytes
%% => M}' (positive integers; a key left out keeps its limit), pool-wide, or
%% a domain's own with `#{domain => Domain, ...}'. Only a limit the pool was
%% created with can change (`{error, {invalid_option, _}}' otherwise: its
%% usage is not counted). Entries already stored stay; a lower limit applies
%% from the next put, rejected or evicting (per `on_full') until the pool is
%% under it. {@link stats/1} reports the limits in force.
-spec set_limits(pool(), #{max_entries => pos_integer(), max_bytes => pos_integer(),
                           domain => domain()}) -> ok | error().
set_limits(Pool, Limits) when is_map(Limits) ->
    Call = ?CALL([Pool, Limits]),
    check_keys(Limits, [max_entries, max_bytes, domain], Call, 2),
    Get = fun(K) ->
                  case maps:get(K, Limits, keep) of
                      keep -> keep;
                      N when is_integer(N), N > 0, N =< ?U64_MAX -> N;
                      _ -> badarg(Call, 2, iolist_to_binary(
                                             io_lib:format("~p must be an integer in 1..2^64-1",
                                                           [K])))
                  end
          end,
    Scope = case maps:find(domain, Limits) of
                error -> pool;
                {ok, D} when ?IS_DOMAIN(D) -> D;
                {ok, _} -> badarg(Call, 2, ?DOMAIN_MSG)
            end,
    MaxEntries = Get(max_entries),
    MaxBytes = Get(max_bytes),
    try memacct_nif:pool_set_limits(Pool, Scope, MaxEntries, MaxBytes)
    catch error:badarg -> not_pool(Call)
    end;
set_limits(Pool, Limits) ->
    badarg(?CALL([Pool, Limits]), 2, <<"limits must be a map">>).

%% @doc `{Entries, PayloadBytes}' that the processes `Pids' own in the pool
%% (entries they acquired and still hold), e.g. connection processes' share
%% of a pool for a memory decomposition. Runs on a dirty scheduler.
-spec owned_bytes(pool(), [pid()]) -> {non_neg_integer(), non_neg_integer()}.
owned_bytes(Pool, Pids) ->
    try memacct_nif:pool_owned_bytes(Pool, Pids)
    catch
        error:badarg ->
            Call = ?CALL([Pool, Pids]),
            case memacct_collect:local_pids(Pids) of
                true -> not_pool(Call);
                false -> badarg(Call, 2, <<"not a proper list of pids of this node">>)
            end
    end.

%% @doc The handles of the pool's live entries (including expired ones not
%% yet swept, which `get' reports stale), in no particular order: the way to
%% find the entries of a pool made by {@link restore/2}, whose handles are
%% new. O(entries): runs on a dirty CPU scheduler. Entries stored or
%% released meanwhile may or may not be listed.
-spec handles(pool()) -> [handle()].
handles(Pool) ->
    try memacct_nif:pool_handles(Pool)
    catch error:badarg -> not_pool(?CALL([Pool]))
    end.

%% @doc Live entries (including expired ones not yet swept).
-spec size(pool()) -> non_neg_integer().
size(Pool) ->
    try memacct_nif:pool_size(Pool)
    catch error:badarg -> not_pool(?CALL([Pool]))
    end.

%% @doc Removes every expired entry now; returns how many.
-spec expire(pool()) -> non_neg_integer().
expire(Pool) ->
    try memacct_nif:pool_expire(Pool)
    catch error:badarg -> not_pool(?CALL([Pool]))
    end.

%% @doc Releases every entry; returns how many.
-spec clear(pool()) -> non_neg_integer().
clear(Pool) ->
    try memacct_nif:pool_clear(Pool)
    catch error:badarg -> not_pool(?CALL([Pool]))
    end.

%% @doc The pool's scheduling thresholds in bytes: payloads up to
%% `CopyBytes' are copied and ETF up to `DecodeBytes' is decoded on the
%% calling normal scheduler (compression follows
%% {@link memacct:codec_scheduling_limits/0}).
-spec scheduling_limits() -> {CopyBytes :: pos_integer(), DecodeBytes :: pos_integer()}.
scheduling_limits() ->
    memacct_nif:pool_limits().

%%% ---------------------------------------------------------------------------
%%% Internals

%% The options (argument `Pos', the last of `Call') as the NIF takes them.
-spec config(map(), call()) -> memacct_nif:pool_config().
config(Opts, {_Fun, Args} = Call) ->
    Pos = length(Args),
    check_keys(Opts, [max_entries, max_bytes, shards, policy, on_full, default_ttl_ms,
                      ttl_resolution_ms, domains, seed, dictionary, level,
                      compress_min_bytes], Call, Pos),
    Limit = fun(K, M) -> limit(maps:get(K, M, none), K, Call, Pos) end,
    Ttl = fun(K, M) -> ttl(maps:get(K, M, none), K, Call, Pos) end,
    Shards = int(maps:get(shards, Opts, 0), 0, shards, Call, Pos),
    Policy = case maps:get(policy, Opts, lru) of
                 P when P =:= lru; P =:= lfu; P =:= fifo; P =:= ttl; P =:= random;
                        P =:= s3fifo; P =:= s3_fifo -> P;
                 _ -> badarg(Call, Pos, <<"policy must be lru, lfu, fifo, ttl, random or s3fifo">>)
             end,
    OnFull = case maps:get(on_full, Opts, evict) of
                 F when F =:= reject; F =:= evict -> F;
                 _ -> badarg(Call, Pos, <<"on_full must be reject or evict">>)
             end,
    Res = int(maps:get(ttl_resolution_ms, Opts, ?DEFAULT_TTL_RESOLUTION_MS), 0,
              ttl_resolution_ms, Call, Pos),
    Seed = int(maps:get(seed, Opts, ?DEFAULT_SEED), 0, seed, Call, Pos),
    Domains = case maps:get(domains, Opts, #{}) of
                  DM when is_map(DM) ->
                      [domain_config(D, C, Call, Pos) || {D, C} <- maps:to_list(DM)];
                  _ -> badarg(Call, Pos, <<"domains must be a map">>)
              end,
    Dict = case maps:get(dictionary, Opts, none) of
               none -> none;
               D when is_reference(D) -> D;
               _ -> badarg(Call, Pos, <<"dictionary must be a memacct:dictionary()">>)
           end,
    Level = case maps:get(level, Opts, ?DEFAULT_LEVEL) of
                L when is_integer(L) -> max(-(1 bsl 31), min(L, 1 bsl 31));
                _ -> badarg(Call, Pos, <<"level must be an integer in 1..22">>)
            end,
    CMin = case maps:get(compress_min_bytes, Opts, ?DEFAULT_COMPRESS_MIN) of
               infinity -> ?U64_MAX;
               C -> int(C, 0, compress_min_bytes, Call, Pos)
           end,
    {{Shards, Limit(max_entries, Opts), Limit(max_bytes, Opts), Policy, OnFull,
      Ttl(default_ttl_ms, Opts), Res},
     {Seed, Domains, Dict, Level, CMin}}.

-spec domain_config(term(), term(), call(), pos_integer()) ->
          {domain(), none | pos_integer(), none | pos_integer(), none | non_neg_integer()}.
domain_config(D, C, Call, Pos) when is_map(C) ->
    case lists:member(D, ?DOMAINS) of
        true -> ok;
        false -> badarg(Call, Pos, <<"domains: keys must be session, shared, registry, cache or ephemeral">>)
    end,
    check_keys(C, [max_entries, max_bytes, default_ttl_ms], Call, Pos),
    {D, limit(maps:get(max_entries, C, none), max_entries, Call, Pos),
     limit(maps:get(max_bytes, C, none), max_bytes, Call, Pos),
     ttl(maps:get(default_ttl_ms, C, none), default_ttl_ms, Call, Pos)};
domain_config(_D, _C, Call, Pos) ->
    badarg(Call, Pos, <<"domains: each value must be a map">>).

-spec limit(term(), atom(), call(), pos_integer()) -> none | pos_integer().
limit(none, _K, _Call, _Pos) -> none;
limit(infinity, _K, _Call, _Pos) -> none;
limit(V, K, Call, Pos) -> int(V, 1, K, Call, Pos).

-spec ttl(term(), atom(), call(), pos_integer()) -> none | non_neg_integer().
ttl(none, _K, _Call, _Pos) -> none;
ttl(infinity, _K, _Call, _Pos) -> none;
ttl(V, K, Call, Pos) -> int(V, 0, K, Call, Pos).

-spec int(term(), non_neg_integer(), atom(), call(), pos_integer()) -> non_neg_integer().
int(V, Min, _K, _Call, _Pos) when is_integer(V), V >= Min, V =< ?U64_MAX ->
    V;
int(_V, Min, K, Call, Pos) ->
    badarg(Call, Pos, iolist_to_binary(io_lib:format("~p must be an integer in ~B..2^64-1",
                                                     [K, Min]))).

-spec path(term(), call(), pos_integer()) -> binary().
path(Path, _Call, _Pos) when is_binary(Path) ->
    Path;
path(Path, Call, Pos) ->
    try unicode:characters_to_binary(filename:flatten(Path), unicode, file:native_name_encoding()) of
        B when is_binary(B) -> B;
        _ -> badarg(Call, Pos, <<"not a file name">>)
    catch
        error:_ -> badarg(Call, Pos, <<"not a file name">>)
    end.

-spec check_keys(map(), [atom()], call(), pos_integer()) -> ok.
check_keys(Opts, Known, {Fun, Args}, Pos) ->
    memacct:check_option_keys(?MODULE, Fun, Args, Pos, Opts, Known).

%% Runs the NIF that makes a pool: every option is checked, so its badarg
%% can only mean a `dictionary' that is not one (a reference of another kind).
-spec with_dict(fun(() -> T), map(), call()) -> T.
with_dict(Fun, Opts, {_Fun, Args} = Call) ->
    try Fun()
    catch
        error:badarg:Stack ->
            case maps:get(dictionary, Opts, none) of
                none -> erlang:raise(error, badarg, Stack);
                _ -> badarg(Call, length(Args), <<"dictionary: not a memacct:dictionary()">>)
            end
    end.

%% The NIF refused a call by (integer) handle, argument 2.
-spec handle_badarg(call()) -> no_return().
handle_badarg({_Fun, [_Pool, Handle | _]} = Call) when Handle >= 0, Handle =< ?U64_MAX ->
    not_pool(Call);
handle_badarg(Call) ->
    badarg(Call, 2, ?HANDLE_MSG).

-spec not_pool(call()) -> no_return().
not_pool(Call) ->
    badarg(Call, 1, <<"not a memacct_pool:pool()">>).

%% The explained badarg of the public function (see memacct:raise_badarg/4).
-spec badarg(call(), pos_integer(), binary()) -> no_return().
badarg({Fun, Args}, Pos, Why) ->
    memacct:raise_badarg(?MODULE, Fun, Args, #{Pos => Why}).
