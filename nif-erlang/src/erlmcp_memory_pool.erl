%%% @doc erlmcp's `erlmcp_memory_pool', backed by {@link memacct_pool}: the
%%% same functions, arities and return shapes, with connection states really
%%% stored (compactly, off every process heap) and really bounded.
%%%
%%% == What changed from erlmcp's module ==
%%% <ul>
%%% <li>Acquire and release do not go through a gen_server: the pool is a NIF
%%%   resource kept in `persistent_term' and every call runs in the caller.
%%%   {@link start_link/0} still starts a process registered as
%%%   `erlmcp_memory_pool'; it creates the pool (or adopts the one a previous
%%%   instance left, so handles survive a restart of the process) and answers
%%%   {@link pool_info/0} and {@link configure/2}.</li>
%%% <li>The initial data given to {@link acquire_connection_state/1} is stored
%%%   (erlmcp's put it in an ETS table nobody could read); read it with
%%%   {@link get_connection_state/1}, replace it with
%%%   {@link update_connection_state/2} (both added here).</li>
%%% <li>A state or buffer belongs to the process that acquired it: when that
%%%   process exits its entries are released at once (a NIF process
%%%   monitor), so a crashed connection leaks nothing.</li>
%%% <li>`StateRef' and `BufferRef' are integers (memacct pool handles), not
%%%   references: pass them back unchanged. A released ref is stale; using it
%%%   again is `{error, {stale_handle, _}}' for reads and `ok' (a no-op) for
%%%   release, as erlmcp's cast was; releasing a reference (an erlmcp ref)
%%%   is `ok' too.</li>
%%% <li>`memory_pool_max_size' (application `erlmcp', default 10000) is
%%%   enforced: at most that many connection states live at once; one more
%%%   is `{error, {pool_exhausted, Msg}}' (backpressure) instead of unbounded
%%%   growth (seeds 001/002 pair `memory_pool_max_size' 10000 with a
%%%   100K-connection target: raise it to the connections a node holds). It
%%%   is read when the process starts, also when it adopts a previous
%%%   instance's pool; {@link configure/2} changes it on the running pool
%%%   (states already stored stay) and {@link pool_info/0} shows it.</li>
%%% <li>`memory_pool_size' (default 1000) is reported only: slots are made
%%%   on demand and kept for reuse, there is nothing to pre-allocate.</li>
%%% </ul>
%%%
%%% == pool_stats/0 ==
%%% The seed's keys, with these meanings: `in_use' live entries (connection
%%% states and message buffers), `available' freed slots kept for reuse,
%%% `total_allocated' = `in_use' + `available', `created' acquires that took
%%% a new slot, `reused' acquires that took a freed one, and `reuse_ratio' =
%%% `100 * reused / (reused + created)': a percentage in 0.0..100.0 rounded
%%% to one decimal, as the seed shows it (`97.3') and as its monitoring
%%% compares it (`< 70'); 0.0 before the first acquire. erlmcp divided by
%%% `created' alone, so its ratio could exceed 100%. (The `pool' map of
%%% {@link pool_info/0} is {@link memacct_pool:stats/1}, whose `reuse_ratio'
%%% is the same figure as a fraction in 0.0..1.0.)
-module(erlmcp_memory_pool).
-behaviour(gen_server).

-export([start_link/0, stop/0,
         acquire_connection_state/1, release_connection_state/1,
         get_connection_state/1, update_connection_state/2,
         acquire_message_buffer/1, release_message_buffer/1,
         pool_stats/0, pool_info/0, configure/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2, code_change/3]).

-define(SERVER, ?MODULE).
-define(KEY, {?MODULE, pool}).
-define(ZERO_KEY, {?MODULE, zero_buffer}).
-define(DEFAULT_POOL_SIZE, 1000).
-define(DEFAULT_MAX_POOL_SIZE, 10000).
-define(MESSAGE_BUFFER_SIZE, 64 * 1024).
%% The largest message buffer handed out: a zeroed binary the VM cannot
%% allocate stops it (binary_alloc), so larger sizes are an error.
-define(MAX_BUFFER_SIZE, (1 bsl 30)).
-define(U64_MAX, 16#FFFFFFFFFFFFFFFF).

-type state_ref() :: memacct_pool:handle().
-type buffer_ref() :: memacct_pool:handle().
-type state() :: #{pool_size := pos_integer(), max_pool_size := pos_integer()}.

-export_type([state_ref/0, buffer_ref/0]).

%%% ---------------------------------------------------------------------------
%%% API

%% @doc Starts the pool's process (registered as `erlmcp_memory_pool') and
%% creates the pool from the application environment of `erlmcp'
%% (`memory_pool_size', `memory_pool_max_size'), or adopts the pool a
%% previous instance left.
-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?SERVER}, ?MODULE, [], []).

%% @doc Stops the process and drops the pool (every handle becomes invalid:
%% after a new {@link start_link/0}, a ref of the old pool reads
%% `{error, {stale_handle, _}}', never another connection's state).
-spec stop() -> ok.
stop() ->
    case whereis(?SERVER) of
        undefined -> ok;
        Pid -> gen_server:stop(Pid)
    end,
    _ = persistent_term:erase(?KEY),
    ok.

%% @doc Stores `InitialData' as a connection state owned by the calling
%% process. `{error, {pool_exhausted, _}}' when `memory_pool_max_size'
%% states are live; `{error, not_started}' before {@link start_link/0}.
-spec acquire_connection_state(map()) -> {ok, state_ref()} | {error, term()}.
acquire_connection_state(InitialData) when is_map(InitialData) ->
    case pool() of
        undefined -> {error, not_started};
        Pool -> memacct_pool:acquire(Pool, session, InitialData)
    end.

%% @doc Releases a connection state (a stale or unknown ref is ignored, and
%% so is a reference: erlmcp's refs, e.g. held across the upgrade, name
%% nothing here).
-spec release_connection_state(state_ref() | reference()) -> ok.
release_connection_state(StateRef) when is_integer(StateRef) ->
    release(StateRef);
release_connection_state(StateRef) when is_reference(StateRef) ->
    ok.

%% @doc The data stored under `StateRef' (added: erlmcp had no reader).
-spec get_connection_state(state_ref()) -> {ok, map()} | {error, term()}.
get_connection_state(StateRef) when is_integer(StateRef) ->
    case pool() of
        undefined -> {error, not_started};
        Pool -> memacct_pool:get(Pool, StateRef)
    end.

%% @doc Replaces the data stored under `StateRef' (added).
-spec update_connection_state(state_ref(), map()) -> ok | {error, term()}.
update_connection_state(StateRef, Data) when is_integer(StateRef), is_map(Data) ->
    case pool() of
        undefined -> {error, not_started};
        Pool -> memacct_pool:update(Pool, StateRef, Data)
    end.

%% @doc A zeroed message buffer of at least `Size' bytes (64 KiB or more, as
%% erlmcp gave), recorded in the pool's `ephemeral' domain and owned by the
%% caller. Buffers up to 64 KiB are one shared binary: binaries are
%% immutable, so sharing is the only reuse there is. More than 1 GiB is
%% `{error, {buffer_too_large, Msg}}' (erlmcp tried, and a size the VM cannot
%% allocate stopped the node).
-spec acquire_message_buffer(pos_integer()) -> {ok, buffer_ref(), binary()} | {error, term()}.
acquire_message_buffer(Size) when is_integer(Size), Size > ?MAX_BUFFER_SIZE ->
    {error, {buffer_too_large, <<"a message buffer is at most 1 GiB">>}};
acquire_message_buffer(Size) when is_integer(Size), Size > 0 ->
    case pool() of
        undefined ->
            {error, not_started};
        Pool ->
            Bytes = max(Size, ?MESSAGE_BUFFER_SIZE),
            %% The binary first: nothing is left in the pool if it fails.
            Buffer = buffer(Bytes),
            case memacct_pool:acquire(Pool, ephemeral, {message_buffer, Bytes}) of
                {ok, Ref} -> {ok, Ref, Buffer};
                {error, _} = E -> E
            end
    end.

%% @doc Releases a message buffer (a stale or unknown ref is ignored, and
%% so is a reference, as for {@link release_connection_state/1}).
-spec release_message_buffer(buffer_ref() | reference()) -> ok.
release_message_buffer(BufferRef) when is_integer(BufferRef) ->
    release(BufferRef);
release_message_buffer(BufferRef) when is_reference(BufferRef) ->
    ok.

%% @doc `#{in_use, available, total_allocated, reused, created, reuse_ratio}'
%% (see the module doc for what each means; `reuse_ratio' is a percentage,
%% e.g. `97.3'). Read from the pool directly.
-spec pool_stats() -> #{in_use := non_neg_integer(), available := non_neg_integer(),
                        total_allocated := non_neg_integer(),
                        reused := non_neg_integer(), created := non_neg_integer(),
                        reuse_ratio := float()}.
pool_stats() ->
    case pool() of
        undefined -> exit({noproc, {?MODULE, pool_stats, []}});
        Pool -> seed_stats(memacct_pool:stats(Pool))
    end.

%% @doc erlmcp's pool information: `connection_pool' (`queue_length': free
%% slots, `pool_size', `max_size': the configured maximum,
%% `effective_max_size': the live pool's), `buffer_pool', `ets_table' (here:
%% the native pool's entries and bytes held — there is no ETS table),
%% `stats' (as {@link pool_stats/0} without the ratio, like erlmcp's), plus
%% `pool': the full {@link memacct_pool:stats/1} (its `reuse_ratio' is a
%% fraction, 0.0..1.0; {@link pool_stats/0} gives the percentage).
-spec pool_info() -> map().
pool_info() ->
    gen_server:call(?SERVER, pool_info).

%% @doc `configure(pool_size, N)' and `configure(max_pool_size, N)' with a
%% positive integer: `ok'. A new maximum applies to the running pool at once
%% (states already stored stay; acquires fail with `pool_exhausted' until
%% the pool is under it); anything else `{error, invalid_config}'.
-spec configure(atom(), term()) -> ok | {error, term()}.
configure(Key, Value) ->
    gen_server:call(?SERVER, {configure, Key, Value}).

%%% ---------------------------------------------------------------------------
%%% gen_server

%% @private
-spec init([]) -> {ok, state()} | {stop, term()}.
init([]) ->
    PoolSize = env(memory_pool_size, ?DEFAULT_POOL_SIZE),
    MaxSize = env(memory_pool_max_size, ?DEFAULT_MAX_POOL_SIZE),
    case pool() of
        undefined ->
            Opts = #{on_full => reject, domains => #{session => #{max_entries => MaxSize}}},
            case memacct_pool:new(Opts) of
                {ok, Pool} ->
                    persistent_term:put(?KEY, Pool),
                    {ok, #{pool_size => PoolSize, max_pool_size => MaxSize}};
                {error, Reason} ->
                    {stop, Reason}
            end;
        Pool ->
            %% A previous instance's pool: its entries stay, the limit is
            %% the environment's now (as for a new pool).
            case memacct_pool:set_limits(Pool, #{domain => session, max_entries => MaxSize}) of
                ok -> {ok, #{pool_size => PoolSize, max_pool_size => MaxSize}};
                {error, Reason} -> {stop, Reason}
            end
    end.

%% @private
-spec handle_call(term(), gen_server:from(), state()) -> {reply, term(), state()}.
handle_call(pool_info, _From, State) ->
    {reply, info(State), State};
handle_call({configure, pool_size, N}, _From, State) when is_integer(N), N > 0 ->
    {reply, ok, State#{pool_size := N}};
handle_call({configure, max_pool_size, N}, _From, State) when is_integer(N), N > 0 ->
    %% The running pool's limit changes at once (states already stored stay);
    %% beyond 2^64 - 1 it is that (no pool holds more entries).
    case memacct_pool:set_limits(pool(), #{domain => session, max_entries => min(N, ?U64_MAX)}) of
        ok -> {reply, ok, State#{max_pool_size := N}};
        {error, _} = Error -> {reply, Error, State}
    end;
handle_call(_Request, _From, State) ->
    {reply, {error, invalid_config}, State}.

%% @private
-spec handle_cast(term(), state()) -> {noreply, state()}.
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @private Stray messages are ignored, as erlmcp's process did.
-spec handle_info(term(), state()) -> {noreply, state()}.
handle_info(_Info, State) ->
    {noreply, State}.

%% @private The pool outlives the process (see {@link start_link/0}).
-spec terminate(term(), state()) -> ok.
terminate(_Reason, _State) ->
    ok.

%% @private
-spec code_change(term(), state(), term()) -> {ok, state()}.
code_change(_OldVsn, State, _Extra) ->
    {ok, State}.

%%% ---------------------------------------------------------------------------
%%% Internals

-spec pool() -> memacct_pool:pool() | undefined.
pool() ->
    persistent_term:get(?KEY, undefined).

-spec release(memacct_pool:handle()) -> ok.
release(Ref) ->
    case pool() of
        undefined -> ok;
        Pool when Ref >= 0, Ref =< 16#FFFFFFFFFFFFFFFF ->
            _ = memacct_pool:release(Pool, Ref),
            ok;
        _ -> ok
    end.

-spec buffer(pos_integer()) -> binary().
buffer(?MESSAGE_BUFFER_SIZE) ->
    case persistent_term:get(?ZERO_KEY, undefined) of
        undefined ->
            B = <<0:(?MESSAGE_BUFFER_SIZE * 8)>>,
            persistent_term:put(?ZERO_KEY, B),
            B;
        B ->
            B
    end;
buffer(Bytes) ->
    <<0:(Bytes * 8)>>.

-spec seed_stats(memacct_pool:stats()) -> map().
seed_stats(#{in_use := InUse, available := Avail, reused := Reused, created := Created}) ->
    #{in_use => InUse, available => Avail, total_allocated => InUse + Avail,
      reused => Reused, created => Created, reuse_ratio => reuse_pct(Reused, Created)}.

%% `100 * Reused / (Reused + Created)' to one decimal (the seed's `97.3').
-spec reuse_pct(non_neg_integer(), non_neg_integer()) -> float().
reuse_pct(0, 0) -> 0.0;
reuse_pct(Reused, Created) -> round(1000 * Reused / (Reused + Created)) / 10.

-spec info(state()) -> map().
info(#{pool_size := PoolSize, max_pool_size := MaxSize}) ->
    Pool = pool(),
    S = memacct_pool:stats(Pool),
    #{domains := #{session := #{max_entries := Effective}}} = S,
    #{connection_pool => #{queue_length => maps:get(available, S),
                           pool_size => PoolSize,
                           max_size => MaxSize,
                           effective_max_size => Effective},
      buffer_pool => #{queue_length => 0, buffer_size => ?MESSAGE_BUFFER_SIZE},
      ets_table => #{size => maps:get(in_use, S),
                     memory_bytes => maps:get(bytes_allocated, S)},
      stats => maps:remove(reuse_ratio, seed_stats(S)),
      pool => S}.

-spec env(atom(), pos_integer()) -> pos_integer().
env(Key, Default) ->
    case application:get_env(erlmcp, Key, Default) of
        N when is_integer(N), N > 0 -> N;
        _ -> Default
    end.
