%%% @doc EUnit tests of the erlmcp drop-in `erlmcp_connection_optimizer':
%%% the seed's API and shapes, lossless compression, v1 migration, garbage,
%%% and exact sizes (`erts_debug:flat_size/1' × 8).
-module(erlmcp_connection_optimizer_tests).

-include_lib("eunit/include/eunit.hrl").

-define(M, erlmcp_connection_optimizer).

%% A state as a live connection builds it: metadata, pending requests with
%% references, a capabilities reference and a transport.
busy_state() ->
    S0 = ?M:create_optimized_state(iolist_to_binary(["conn-", integer_to_list(123)])),
    S1 = ?M:update_state_field(S0, phase, initialized),
    S2 = ?M:update_state_field(S1, transport, erlmcp_transport_tcp),
    S3 = ?M:update_state_field(S2, metadata, #{user_id => 42,
                                               trace => list_to_binary(lists:duplicate(100, $t))}),
    S4 = ?M:update_state_field(S3, metadata, #{tags => [<<"a">>, <<"b">>]}),
    S5 = ?M:update_state_field(S4, capabilities_ref, make_ref()),
    ?M:update_state_field(S5, pending_refs, #{make_ref() => {1, <<"tools/call">>},
                                              make_ref() => {2, <<"ping">>}}).

api_test() ->
    S = ?M:create_optimized_state(<<"conn-1">>),
    ?assertEqual(<<"conn-1">>, ?M:get_state_field(S, id)),
    ?assertEqual(initialization, ?M:get_state_field(S, phase)),
    ?assert(is_integer(?M:get_state_field(S, created_at))),
    ?assertEqual(#{}, ?M:get_state_field(S, metadata)),
    ?assertEqual(undefined, ?M:get_state_field(S, transport)),
    ?assertEqual(undefined, ?M:get_state_field(S, no_such_field)),
    ?assertEqual(none, ?M:get_field_safe(S, transport, none)),
    ?assertEqual(#{}, ?M:get_field_safe(S, metadata, #{x => 1})),
    ?assertEqual(S, ?M:update_state_field(S, no_such_field, 1)),
    ?assertEqual(S, ?M:update_state_field(S, metadata, not_a_map)),
    B = busy_state(),
    ?assertEqual(#{user_id => 42, trace => list_to_binary(lists:duplicate(100, $t)),
                   tags => [<<"a">>, <<"b">>]}, ?M:get_state_field(B, metadata)),
    ?assertEqual(2, map_size(?M:get_state_field(B, pending_refs))),
    ?assertEqual(ok, ?M:cleanup_state(B)),
    ?assertError(function_clause, ?M:create_optimized_state("not a binary")).

lossless_round_trip_test() ->
    B = busy_state(),
    Blob = ?M:compress_state(B),
    ?assert(is_binary(Blob)),
    Back = ?M:decompress_state(Blob),
    ?assert(Back =:= B),
    ?assertEqual(?M:get_state_field(B, pending_refs), ?M:get_state_field(Back, pending_refs)),
    ?assertEqual(?M:get_state_field(B, capabilities_ref),
                 ?M:get_state_field(Back, capabilities_ref)),
    %% Phases and transports v1 could not carry survive too.
    Odd = ?M:update_state_field(?M:update_state_field(B, phase, {draining, 3}),
                                transport, my_transport),
    ?assert(?M:decompress_state(?M:compress_state(Odd)) =:= Odd).

%% The seed's v1 encoding, as its compress_state/1 wrote it.
v1(Id, Phase, Transport, CreatedAt, Pending) ->
    <<1, Phase, Transport, (byte_size(Id)):16, Id/binary, CreatedAt:64, Pending:16>>.

v1_decode_test() ->
    S = ?M:decompress_state(v1(<<"conn-7">>, 1, 1, 1700000000123, 0)),
    ?assertEqual(<<"conn-7">>, ?M:get_state_field(S, id)),
    ?assertEqual(initialized, ?M:get_state_field(S, phase)),
    ?assertEqual(erlmcp_transport_tcp, ?M:get_state_field(S, transport)),
    ?assertEqual(1700000000123, ?M:get_state_field(S, created_at)),
    ?assertEqual(#{}, ?M:get_state_field(S, pending_refs)),
    ?assertEqual(#{}, ?M:get_state_field(S, metadata)),
    ?assertEqual(undefined, ?M:get_state_field(S, capabilities_ref)),
    Phases = [{0, initialization}, {1, initialized}, {2, closed}, {3, unknown}, {200, unknown}],
    [?assertEqual(P, ?M:get_state_field(?M:decompress_state(v1(<<>>, B, 0, 0, 0)), phase))
     || {B, P} <- Phases],
    Transports = [{0, undefined}, {1, erlmcp_transport_tcp}, {2, erlmcp_transport_stdio},
                  {3, erlmcp_transport_http}, {4, erlmcp_transport_ws}, {7, undefined}],
    [?assertEqual(T, ?M:get_state_field(?M:decompress_state(v1(<<"x">>, 0, B, 0, 0)), transport))
     || {B, T} <- Transports],
    %% Pending requests: v1 kept their count only; nothing is invented.
    P = ?M:decompress_state(v1(<<"p">>, 1, 2, 5, 3)),
    ?assertEqual(#{}, ?M:get_state_field(P, pending_refs)),
    ?assertEqual(#{v1_pending_count => 3}, ?M:get_state_field(P, metadata)),
    %% A migrated state compresses losslessly from then on.
    ?assert(?M:decompress_state(?M:compress_state(P)) =:= P).

garbage_test() ->
    Good = ?M:compress_state(busy_state()),
    Cases = [<<>>, <<1>>, <<"junk">>, <<1, 0, 0, 0, 5, "ab">>,
             <<(v1(<<"x">>, 0, 0, 0, 0))/binary, 0>>, <<2, 0, 0, 0, 0, 1, 2, 3>>,
             <<"MAcs">>, binary:part(Good, 0, byte_size(Good) - 1),
             memacct:compress({not_a_state}), memacct:compress({opt_state, 1, 2, 3}),
             not_a_binary],
    [?assertMatch({error, _}, ?M:decompress_state(C)) || C <- Cases],
    ?assertEqual({error, unsupported_version}, ?M:decompress_state(<<2, 0, 0, 0, 0, 1, 2, 3>>)),
    ?assertEqual({error, corrupt_data}, ?M:decompress_state(<<1, 0, 0, 0, 5, "ab">>)),
    ?assertEqual({error, invalid_format}, ?M:decompress_state(<<"x">>)),
    ?assertEqual({error, not_a_connection_state},
                 ?M:decompress_state(memacct:compress({not_a_state}))),
    %% Every truncation and many bit flips of a real blob.
    [?assertMatch({error, _}, ?M:decompress_state(binary:part(Good, 0, L)))
     || L <- lists:seq(0, byte_size(Good) - 1)],
    [case ?M:decompress_state(<<Pre:Bit, (1 - X):1, Post/bitstring>>) of
         {error, _} -> ok;
         S -> ?assert(S =:= binary_to_term(term_to_binary(S)))
     end || Bit <- lists:seq(0, bit_size(Good) - 1, 7),
            <<Pre:Bit, X:1, Post/bitstring>> <- [Good]].

%% What the seed accepted for any term, ours does too (e.g. cleanup_state/1
%% from a terminate/2 that runs before the state was made).
not_a_state_test() ->
    ?assertEqual(ok, ?M:cleanup_state(undefined)),
    ?assertEqual(undefined, ?M:get_state_field(not_a_state, foo)),
    ?assertEqual(d, ?M:get_field_safe(not_a_state, foo, d)),
    ?assertEqual(not_a_state, ?M:update_state_field(not_a_state, foo, 1)).

%% decompress_state/1 gives back whatever compress_state/1 accepted: any
%% #opt_state{}, whatever its fields hold.
any_record_round_trips_test() ->
    Odd = {opt_state, "a list id", 1, 2, 3, 4, 5, 6},
    ?assert(?M:decompress_state(?M:compress_state(Odd)) =:= Odd).

%% A blob from outside creates no atom: a state holding an atom this node
%% does not know is an error, and the atom table does not grow.
no_atom_from_a_blob_test() ->
    Placeholder = 'memacct_placeholder_atom_0001',
    Etf = term_to_binary(?M:update_state_field(busy_state(), metadata, #{Placeholder => 1})),
    Fresh = <<"memacct_unknown_atom_", (binary:encode_hex(crypto:strong_rand_bytes(4)))/binary>>,
    Mutated = binary:replace(Etf, atom_to_binary(Placeholder), Fresh),
    ?assertNotEqual(Etf, Mutated),
    {ok, Blob} = memacct:compress_etf(Mutated),
    Atoms = erlang:system_info(atom_count),
    ?assertMatch({error, {invalid_value, _}}, ?M:decompress_state(Blob)),
    ?assertEqual(Atoms, erlang:system_info(atom_count)).

%% A state larger than decompress_state/1 reads back is refused by
%% compress_state/1 (it made a blob that could not be restored).
too_large_state_test_() ->
    {timeout, 60,
     fun() ->
             Big = ?M:update_state_field(busy_state(), metadata,
                                         #{blob => <<0:((256 * 1024 * 1024) * 8)>>}),
             ?assertError({state_too_large, _}, ?M:compress_state(Big))
     end}.

%% Exact sizes: flat_size × 8, in total and per field, summing up.
sizes_test() ->
    %% Rebuilt through binary_to_term: memacct's live sizes are exact for
    %% terms as binary_to_term builds them.
    States = [binary_to_term(term_to_binary(S))
              || S <- [?M:create_optimized_state(<<"c">>), busy_state()]],
    [begin
         Total = erts_debug:flat_size(S) * 8,
         ?assertEqual(Total, ?M:estimate_memory(S)),
         Info = ?M:state_size_info(S),
         ?assertEqual(Total, maps:get(total_bytes, Info)),
         Fields = [id, transport, phase, created_at, pending_refs, capabilities_ref, metadata],
         [?assertEqual(erts_debug:flat_size(?M:get_state_field(S, F)) * 8, maps:get(F, Info))
          || F <- Fields],
         ?assertEqual((tuple_size(S) + 1) * 8, maps:get(base, Info)),
         ?assertEqual(Total, maps:get(base, Info) + lists:sum([maps:get(F, Info) || F <- Fields])),
         ?assertEqual(map_size(?M:get_state_field(S, metadata)), maps:get(metadata_map_size, Info)),
         ?assertEqual(map_size(?M:get_state_field(S, pending_refs)), maps:get(pending_count, Info))
     end || S <- States],
    %% The 100-byte trace is a refc binary: off-heap, reported apart.
    ?assertEqual(100, maps:get(off_heap_bytes, ?M:state_size_info(lists:last(States)))).
