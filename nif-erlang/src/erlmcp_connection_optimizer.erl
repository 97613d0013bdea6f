%%% @doc Compact connection state for erlmcp: a drop-in replacement for
%%% erlmcp's `erlmcp_connection_optimizer', with the same functions, arities,
%%% record and return shapes, backed by memacct.
%%%
%%% The state is the seed's record, unchanged:
%%% ```
%%% #opt_state{id, transport, phase = initialization, created_at,
%%%            pending_refs = #{}, capabilities_ref, metadata = #{}}
%%% '''
%%%
%%% == What is corrected ==
%%% <ul>
%%% <li><b>Sizes are measured, not guessed.</b> The seed's
%%%   {@link estimate_memory/1} and {@link state_size_info/1} added constants
%%%   (128 bytes of "record overhead", 16 per transport, 8 per reference, 24
%%%   per map entry plus a guess per value). Here every figure is exact:
%%%   heap bytes as `erts_debug:flat_size/1' × 8 (from
%%%   `memacct:term_size/1'), of the whole state and of each field, and the
%%%   per-field figures add up to the total.</li>
%%% <li><b>Compression is lossless.</b> The seed's {@link compress_state/1}
%%%   wrote a fixed "v1" record (see below) that dropped the metadata, the
%%%   capabilities reference and the pending requests (keeping only their
%%%   count), and {@link decompress_state/1} invented fresh references for
%%%   the lost requests — references no reply can ever match. Here
%%%   `compress_state/1' is a memacct blob (`memacct:compress/1'): the state
%%%   comes back `=:=' to the one compressed, metadata, references, request
%%%   ids and any phase or transport included, and a corrupt blob is an
%%%   error, never a wrong state.</li>
%%% <li><b>Stored v1 blobs still decode</b> (so they can be migrated: decode,
%%%   then compress again), without inventing anything; see
%%%   {@link decompress_state/1}.</li>
%%% <li><b>Garbage is an error.</b> Anything that is neither a memacct blob
%%%   of a state nor a well-formed v1 record gives `{error, Reason}'.</li>
%%% </ul>
%%%
%%% == The seed's v1 format ==
%%% `<<1, Phase:8, Transport:8, IdLen:16, Id:IdLen/binary, CreatedAt:64,
%%% PendingCount:16>>' (big-endian), with phase bytes 0 `initialization',
%%% 1 `initialized', 2 `closed', 3 any other phase, and transport bytes 0
%%% `undefined', 1 `erlmcp_transport_tcp', 2 `erlmcp_transport_stdio',
%%% 3 `erlmcp_transport_http', 4 `erlmcp_transport_ws', 7 any other module.
%%% What v1 could not carry is lost for good: the metadata, the capabilities
%%% reference, the pending requests themselves (only their count, modulo
%%% 65536), phases other than the three named ones (decoded as `unknown', as
%%% the seed did), transports other than the four named ones (decoded as
%%% `undefined', as the seed did), ids of 64 KiB or more and timestamps
%%% outside 0..2^64-1 (the seed wrote them truncated).
-module(erlmcp_connection_optimizer).

-export([create_optimized_state/1,
         update_state_field/3,
         get_state_field/2,
         get_field_safe/3,
         compress_state/1,
         decompress_state/1,
         estimate_memory/1,
         cleanup_state/1,
         state_size_info/1]).

-record(opt_state, {
          id :: binary(),
          transport :: module() | undefined,
          phase = initialization :: atom(),
          created_at :: integer(),
          pending_refs = #{} :: map(),
          capabilities_ref :: reference() | undefined,
          metadata = #{} :: map()
         }).

-type opt_state() :: #opt_state{}.
%% A connection's state (the seed's record).
-type field_name() :: atom().
-type size_info() :: #{total_bytes := non_neg_integer(),
                       base := non_neg_integer(),
                       id := non_neg_integer(),
                       transport := non_neg_integer(),
                       phase := non_neg_integer(),
                       created_at := non_neg_integer(),
                       capabilities_ref := non_neg_integer(),
                       metadata := non_neg_integer(),
                       pending_refs := non_neg_integer(),
                       metadata_map_size := non_neg_integer(),
                       pending_count := non_neg_integer(),
                       off_heap_bytes := non_neg_integer()}.
%% Exact heap bytes (`erts_debug:flat_size/1' × 8): `total_bytes' of the
%% whole state; `base' of the record tuple itself; each field's own bytes
%% under its name (`base' plus the fields add up to `total_bytes'). Also
%% `metadata_map_size' and `pending_count' (entries), and `off_heap_bytes':
%% payloads of refc binaries (> 64 bytes) the state references, which live
%% outside the process heap and are not in `total_bytes'.

-export_type([opt_state/0, field_name/0, size_info/0]).

-define(V1, 1).
-define(V1_PENDING_KEY, v1_pending_count).
%% The most ETF a memacct blob of a state may decode to (memacct's default
%% `max_output'): compress_state/1 refuses larger states.
-define(MAX_STATE_BYTES, (256 * 1024 * 1024)).

%%====================================================================
%% API
%%====================================================================

%% @doc A fresh state for connection `ConnectionId', created now
%% (`erlang:system_time(millisecond)').
-spec create_optimized_state(binary()) -> opt_state().
create_optimized_state(ConnectionId) when is_binary(ConnectionId) ->
    #opt_state{id = ConnectionId,
               created_at = erlang:system_time(millisecond),
               pending_refs = #{}}.

%% @doc Sets `phase', `transport', `capabilities_ref' or `pending_refs' (a
%% map), or merges a map into `metadata'. Any other field or value returns
%% `State' unchanged, whatever it is (as in the seed).
-spec update_state_field(opt_state(), field_name(), term()) -> opt_state().
update_state_field(State = #opt_state{}, phase, Value) ->
    State#opt_state{phase = Value};
update_state_field(State = #opt_state{}, transport, Value) ->
    State#opt_state{transport = Value};
update_state_field(State = #opt_state{}, capabilities_ref, Value) ->
    State#opt_state{capabilities_ref = Value};
update_state_field(State = #opt_state{metadata = Old}, metadata, Value) when is_map(Value) ->
    State#opt_state{metadata = maps:merge(Old, Value)};
update_state_field(State = #opt_state{}, pending_refs, Value) when is_map(Value) ->
    State#opt_state{pending_refs = Value};
update_state_field(State, _Field, _Value) ->
    State.

%% @doc A field's value; `undefined' for an unknown field (whatever `State'
%% is, as in the seed).
-spec get_state_field(opt_state(), field_name()) -> term().
get_state_field(#opt_state{id = V}, id) -> V;
get_state_field(#opt_state{phase = V}, phase) -> V;
get_state_field(#opt_state{created_at = V}, created_at) -> V;
get_state_field(#opt_state{transport = V}, transport) -> V;
get_state_field(#opt_state{capabilities_ref = V}, capabilities_ref) -> V;
get_state_field(#opt_state{metadata = V}, metadata) -> V;
get_state_field(#opt_state{pending_refs = V}, pending_refs) -> V;
get_state_field(_State, _Field) -> undefined.

%% @doc A field's value, or `Default' when it is `undefined'.
-spec get_field_safe(opt_state(), field_name(), term()) -> term().
get_field_safe(State, Field, Default) ->
    case get_state_field(State, Field) of
        undefined -> Default;
        Value -> Value
    end.

%% @doc A lossless compact blob of the state (a memacct blob:
%% `memacct:compress/1'). {@link decompress_state/1} gives back a state
%% `=:=' to this one. A state whose ETF is larger than
%% {@link decompress_state/1} reads back (256 MiB) raises
%% `error({state_too_large, Bytes})' instead of making a blob that could
%% not be restored.
-spec compress_state(opt_state()) -> binary().
compress_state(State = #opt_state{}) ->
    Blob = memacct:compress(State),
    case memacct:blob_info(Blob) of
        {ok, #{etf_bytes := Bytes}} when Bytes > ?MAX_STATE_BYTES ->
            error({state_too_large, Bytes});
        {ok, _} ->
            Blob
    end.

%% @doc The state in a blob from {@link compress_state/1}, or in the seed's
%% v1 format (see the module documentation; nothing is invented: v1's
%% pending-request count, when not zero, is kept as metadata key
%% `v1_pending_count', since the requests themselves are lost).
%%
%% Errors: `{error, {Code, Message}}' for a corrupt memacct blob (codes of
%% `memacct:decompress/1'), `{error, not_a_connection_state}' for a blob of
%% another term, and, as in the seed, `{error, corrupt_data}' for a
%% malformed v1 record, `{error, unsupported_version}' and
%% `{error, invalid_format}'.
%%
%% A memacct blob is decoded like `binary_to_term(Etf, [safe])'
%% (`memacct:decompress(Blob, #{safe => true})'): no atom is created, so a
%% blob from an untrusted source cannot grow the atom table; a state holding
%% an atom this node does not know is `{error, {invalid_value, _}}'. (A
%% state's atoms — phase, transport module, metadata keys — exist on a node
%% running the code that made them.) A blob may decode to at most 256 MiB of
%% ETF (`{error, {inflate_limit, _}}' beyond: a small blob cannot make this
%% allocate more). v1 records create no atom.
-spec decompress_state(binary()) -> opt_state() | {error, term()}.
decompress_state(<<"MAcs", _/binary>> = Blob) ->
    case memacct:decompress(Blob, #{safe => true, max_output => ?MAX_STATE_BYTES}) of
        {ok, State} ->
            case is_state(State) of
                true -> State;
                false -> {error, not_a_connection_state}
            end;
        {error, _} = Error ->
            Error
    end;
decompress_state(<<?V1, Phase, Transport, IdLen:16, Rest/binary>>) ->
    case Rest of
        <<Id:IdLen/binary, CreatedAt:64, PendingCount:16>> ->
            Metadata = case PendingCount of
                           0 -> #{};
                           N -> #{?V1_PENDING_KEY => N}
                       end,
            #opt_state{id = Id,
                       phase = v1_phase(Phase),
                       transport = v1_transport(Transport),
                       created_at = CreatedAt,
                       pending_refs = #{},
                       metadata = Metadata};
        _ ->
            {error, corrupt_data}
    end;
decompress_state(<<_Version, _Phase, _Transport, _IdLen:16, _/binary>>) ->
    {error, unsupported_version};
decompress_state(_) ->
    {error, invalid_format}.

%% @doc Exact heap bytes of the state: `erts_debug:flat_size(State) * 8' (what
%% it takes in a process heap; refc binary payloads are off-heap, see
%% {@link state_size_info/1}).
-spec estimate_memory(opt_state()) -> non_neg_integer().
estimate_memory(State = #opt_state{}) ->
    memacct:flat_size(State) * 8.

%% @doc Nothing to release: the state is an ordinary term, reclaimed by the
%% garbage collector when no longer referenced. Kept for the seed's API
%% (and, like it, accepts anything, e.g. `undefined' from a `terminate/2'
%% that runs before the state was made).
-spec cleanup_state(opt_state() | term()) -> ok.
cleanup_state(_State) ->
    ok.

%% @doc The exact heap bytes of the state and of each field (see
%% {@type size_info()}). Exact as `memacct:term_size/1' is: for terms as
%% `binary_to_term/1' builds them, and for the rare heap layouts the NIF API
%% cannot see (e.g. sub-binaries) see `memacct:flat_size/1'.
-spec state_size_info(opt_state()) -> size_info().
state_size_info(State = #opt_state{metadata = Meta, pending_refs = Pending}) ->
    #{words := Words, fields := Fields, off_heap_bytes := OffHeap} = memacct:term_size(State),
    Names = record_info(fields, opt_state),
    %% Field labels of a root tuple count as element/2 does: <<"1">> is the
    %% record tag, <<"2">> the first field.
    PerField = maps:from_list(
                 [{lists:nth(binary_to_integer(Label) - 1, Names), Value * 8}
                  || {Label, _KeyWords, Value} <- Fields, Label =/= <<"1">>]),
    Base = (Words - lists:sum([V || {_, _, V} <- Fields])) * 8,
    PerField#{total_bytes => Words * 8,
              base => Base,
              metadata_map_size => map_size(Meta),
              pending_count => map_size(Pending),
              off_heap_bytes => OffHeap}.

%%====================================================================
%% Internal
%%====================================================================

%% What compress_state/1 accepts (any #opt_state{}, whatever its fields
%% hold), so every blob it made decodes.
-spec is_state(term()) -> boolean().
is_state(State) ->
    is_record(State, opt_state).

-spec v1_phase(byte()) -> atom().
v1_phase(0) -> initialization;
v1_phase(1) -> initialized;
v1_phase(2) -> closed;
v1_phase(_) -> unknown.

-spec v1_transport(byte()) -> module() | undefined.
v1_transport(1) -> erlmcp_transport_tcp;
v1_transport(2) -> erlmcp_transport_stdio;
v1_transport(3) -> erlmcp_transport_http;
v1_transport(4) -> erlmcp_transport_ws;
v1_transport(_) -> undefined.
