%%% @doc Deterministic random Erlang terms over every kind the ETF can carry,
%%% with the edges that matter for heap sizing: 0/31/32/33/1000-key maps,
%%% maps and tuples as keys, deep lists and tuples, big and negative bignums,
%%% the small-integer boundary, unicode atoms, 0/64/65-byte binaries,
%%% bitstrings, closures with environments, export funs, local and external
%%% pids, ports and references, improper lists.
%%%
%%% Used by `tests/gen_vectors.escript' (the committed cross-language
%%% vectors) and by the Common Test suites (fresh terms every run).
-module(memacct_term_gen).

-export([terms/2, terms/3, atom_pool/0, external_pid/0, external_ref/0, external_port/0]).

-type opts() :: #{portable => boolean(), small => boolean()}.
%% `portable => true' keeps pids, ports, external references and funs out of
%% the keys of maps with more than 32 keys: their hash mixes VM-private
%% values, so only a surface running inside the VM can size such maps.
%% `small => true' keeps terms shallower (for committed vector files).

-define(OTHER_NODE, 'other@memacct.example').

%% @doc `N' terms from `Seed', allowing every kind everywhere.
-spec terms(pos_integer(), integer()) -> [term()].
terms(N, Seed) ->
    terms(N, Seed, #{}).

%% @doc `N' terms from `Seed' with options.
-spec terms(pos_integer(), integer(), opts()) -> [term()].
terms(N, Seed, Opts) ->
    S0 = rand:seed_s(exsss, Seed),
    Portable = maps:get(portable, Opts, false),
    Depth = case maps:get(small, Opts, false) of true -> 2; false -> 3 end,
    put({?MODULE, small}, Depth =:= 2),
    {Ts, _} = lists:mapfoldl(fun(_, S) -> top(S, Portable, Depth) end, S0, lists:seq(1, N)),
    erase({?MODULE, small}),
    Ts.

%% @doc The atoms the generator draws from (all exist once this module is loaded).
-spec atom_pool() -> [atom()].
atom_pool() ->
    [ok, error, undefined, true, false, nil, id, session_id, protocol_version, capabilities,
     resources, tools, prompts, subscriptions, pending, metadata, transport, phase,
     initialized, closing, tcp, http, stdio, '', 'Hello World', 'with\'quote',
     'héllo', 'ünïcödé', '日本語', 'атом', 'émoji_😀', memacct_term_gen, lists,
     list_to_atom(lists:duplicate(255, $x)), 'Elixir.MCP.Session', '$end_of_table', n, tag, latin
     | [list_to_atom("k" ++ integer_to_list(I)) || I <- lists:seq(1, 1200)]].

%% @doc A pid of another node (what `binary_to_term' builds for a remote pid).
-spec external_pid() -> pid().
external_pid() ->
    external_pid(7, 3, 1234).

%% @doc A reference of another node.
-spec external_ref() -> reference().
external_ref() ->
    external_ref([1, 2, 3], 1234).

%% @doc A port of another node.
-spec external_port() -> port().
external_port() ->
    binary_to_term(<<131, 89, (node_ext())/binary, 42:32, 1234:32>>).

%% ---------------------------------------------------------------------------

node_ext() ->
    Name = atom_to_binary(?OTHER_NODE, utf8),
    <<119, (byte_size(Name)), Name/binary>>.

external_pid(Id, Serial, Creation) ->
    binary_to_term(<<131, 88, (node_ext())/binary, Id:32, Serial:32, Creation:32>>).

external_ref(Ids, Creation) ->
    Bin = << <<I:32>> || I <- Ids >>,
    binary_to_term(<<131, 90, (length(Ids)):16, (node_ext())/binary, Creation:32, Bin/binary>>).

uniform(N, S) -> rand:uniform_s(N, S).

pick(List, S) ->
    {I, S1} = uniform(length(List), S),
    {lists:nth(I, List), S1}.

top(S, Portable, Depth) ->
    {R, S1} = uniform(100, S),
    if
        R =< 2 -> special_map(S1, Portable);
        R =< 3 -> deep(S1, Portable);
        true -> term(Depth, S1, Portable)
    end.

%% Maps at the flat/HAMT boundary and large ones, with varied key kinds.
special_map(S, Portable) ->
    Sizes = case get({?MODULE, small}) of
                true -> [0, 1, 31, 32, 33, 34, 40, 64, 100, 200, 300];
                _ -> [0, 1, 31, 32, 33, 34, 40, 64, 100, 200, 1000]
            end,
    {N, S1} = pick(Sizes, S),
    {KeyKind, S2} = pick([int, atom, binary, tuple, mixed, map, string, float, bignum, bigmap], S1),
    {Pairs, S3} = keys(N, KeyKind, S2, Portable, []),
    {maps:from_list(Pairs), S3}.

keys(0, _Kind, S, _P, Acc) ->
    {Acc, S};
keys(N, Kind, S, P, Acc) ->
    {K, S1} = key(Kind, N, S, P),
    {V, S2} = leaf(S1, P, value),
    keys(N - 1, Kind, S2, P, [{K, V} | Acc]).

key(int, N, S, _) -> {R, S1} = uniform(1000000, S), {N * 1000000 + R, S1};
key(atom, N, S, _) -> {list_to_atom("k" ++ integer_to_list(1 + N rem 1200)), S};
key(binary, N, S, _) -> {R, S1} = uniform(100, S), {<<"key-", (integer_to_binary(N))/binary, "-", (integer_to_binary(R))/binary>>, S1};
key(string, N, S, _) -> {"s" ++ integer_to_list(N), S};
key(float, N, S, _) -> {R, S1} = uniform(1000, S), {N + R / 1000, S1};
key(bignum, N, S, _) -> {(1 bsl 70) * N + 1, S};
key(tuple, N, S, P) -> {T, S1} = leaf(S, P, key), {{N, T}, S1};
key(map, N, S, _) -> {#{n => N, tag => <<"m">>}, S};
key(bigmap, N, S, _) -> {maps:from_list([{N * 100 + J, J} || J <- lists:seq(1, 33)]), S};
key(mixed, N, S, P) ->
    {K, S1} = pick([int, atom, binary, tuple, string], S),
    key(K, N, S1, P).

%% Deep nesting (tuples, list heads, maps).
deep(S, Portable) ->
    {D, S1} = uniform(400, S),
    {Kind, S2} = pick([tuple, list, map, improper], S1),
    {Leaf, S3} = leaf(S2, Portable, value),
    {wrap(Kind, D, Leaf), S3}.

wrap(_Kind, 0, T) -> T;
wrap(tuple, D, T) -> wrap(tuple, D - 1, {T});
wrap(list, D, T) -> wrap(list, D - 1, [T, D]);
wrap(map, D, T) -> wrap(map, D - 1, #{D => T});
wrap(improper, D, T) -> wrap(improper, D - 1, [D | T]).

term(0, S, P) ->
    leaf(S, P, value);
term(Depth, S, P) ->
    {R, S1} = uniform(100, S),
    if
        R =< 50 -> leaf(S1, P, value);
        R =< 55 -> tuple(Depth, S1, P);
        R =< 70 -> list(Depth, S1, P);
        R =< 85 -> small_map(Depth, S1, P);
        R =< 90 -> closure(Depth, S1, P);
        R =< 95 -> string(S1);
        true -> improper(Depth, S1, P)
    end.

tuple(Depth, S, P) ->
    {N, S1} = pick([0, 1, 2, 3, 4, 5, 8, 20], S),
    {Es, S2} = many(N, Depth - 1, S1, P),
    {list_to_tuple(Es), S2}.

list(Depth, S, P) ->
    {N, S1} = pick([0, 1, 2, 3, 4, 5, 10], S),
    many(N, Depth - 1, S1, P).

improper(Depth, S, P) ->
    {Es, S1} = list(Depth, S, P),
    {Tail, S2} = leaf(S1, P, value),
    case Tail of
        [] -> {Es, S2};
        _ when is_list(Tail) -> {Es, S2};
        _ -> {lists:foldr(fun(E, Acc) -> [E | Acc] end, Tail, Es), S2}
    end.

small_map(Depth, S, P) ->
    {N, S1} = pick([0, 1, 2, 3, 5, 8], S),
    {Ks, S2} = many(N, 1, S1, P),
    {Vs, S3} = many(N, Depth - 1, S2, P),
    {maps:from_list(lists:zip(Ks, Vs)), S3}.

closure(Depth, S, P) ->
    {Env, S1} = many(2, Depth - 1, S, P),
    {Kind, S2} = pick([none, one, two, export], S1),
    [A, B] = Env,
    F = case Kind of
            none -> fun() -> ok end;
            one -> fun(X) -> {X, A} end;
            two -> fun(X, Y) -> [X, Y, A, B] end;
            export -> fun lists:map/2
        end,
    {F, S2}.

string(S) ->
    {N, S1} = pick([1, 3, 10, 100], S),
    {Cs, S2} = chars(N, S1, []),
    {Cs, S2}.

chars(0, S, Acc) -> {Acc, S};
chars(N, S, Acc) -> {C, S1} = uniform(255, S), chars(N - 1, S1, [C | Acc]).

many(N, Depth, S, P) ->
    lists:mapfoldl(fun(_, Si) -> term(max(Depth, 0), Si, P) end, S, lists:seq(1, N)).

leaf(S, P, Role) ->
    {R, S1} = uniform(100, S),
    if
        R =< 15 -> int(S1);
        R =< 22 -> bignum(S1);
        R =< 28 -> float_term(S1);
        R =< 42 -> atom(S1);
        R =< 46 -> {[], S1};
        R =< 62 -> binary(S1);
        R =< 67 -> bitstring(S1);
        R =< 74 andalso (Role =:= value orelse not P) -> identifier(S1);
        R =< 80 -> {make_ref(), S1};
        true -> int(S1)
    end.

atom(S) ->
    {R, S1} = uniform(10, S),
    case R of
        1 -> {I, S2} = uniform(1200, S1), {list_to_atom("k" ++ integer_to_list(I)), S2};
        _ -> pick([ok, error, undefined, true, false, nil, id, session_id, capabilities, tcp,
                   '', 'Hello World', 'héllo', '日本語', 'émoji_😀', 'Elixir.MCP.Session'], S1)
    end.

int(S) ->
    {K, S1} = pick([byte, small, neg, edge], S),
    case K of
        byte -> uniform(256, S1);
        small -> {R, S2} = uniform(1 bsl 40, S1), {R, S2};
        neg -> {R, S2} = uniform(1 bsl 30, S1), {-R, S2};
        edge -> pick([(1 bsl 59) - 1, 1 bsl 59, -(1 bsl 59), -(1 bsl 59) - 1, 0, -1, 255, 256,
                      (1 bsl 31) - 1, -(1 bsl 31), 1 bsl 32], S1)
    end.

bignum(S) ->
    {Bits, S1} = pick([60, 64, 65, 100, 128, 200, 500, 1000, 2040], S),
    {R, S2} = uniform(1 bsl 30, S1),
    {Sign, S3} = pick([1, -1], S2),
    {Sign * ((1 bsl Bits) + R), S3}.

float_term(S) ->
    {K, S1} = pick([plain, zero, negzero, big, tiny], S),
    case K of
        plain -> {R, S2} = uniform(1000000, S1), {R / 7, S2};
        zero -> {0.0, S1};
        negzero -> {-0.0, S1};
        big -> {1.0e300, S1};
        tiny -> {-5.0e-324, S1}
    end.

binary(S) ->
    Sizes = case get({?MODULE, small}) of
                true -> [0, 1, 7, 8, 9, 31, 63, 64, 65, 66, 100];
                _ -> [0, 1, 7, 8, 9, 31, 63, 64, 65, 66, 100, 300, 1000]
            end,
    {N, S1} = pick(Sizes, S),
    {crypto_free_bytes(N, S1), S1}.

crypto_free_bytes(N, S) ->
    {Seed, _} = uniform(255, S),
    binary:part(pattern(), Seed, N).

%% 1,255 bytes of varied content to slice binaries from.
pattern() ->
    case persistent_term:get({?MODULE, pattern}, undefined) of
        undefined ->
            P = << <<(I rem 251)>> || I <- lists:seq(1, 1255) >>,
            persistent_term:put({?MODULE, pattern}, P),
            P;
        P ->
            P
    end.

bitstring(S) ->
    {Bytes, S1} = pick([0, 1, 8, 63, 64, 65, 200], S),
    {Bits, S2} = uniform(7, S1),
    B = crypto_free_bytes(Bytes, S2),
    {<<B/binary, 5:Bits>>, S2}.

identifier(S) ->
    {K, S1} = pick([self, dead, ext_pid, port, ext_port, ext_ref, alias, magic], S),
    T = case K of
            self -> self();
            dead -> spawn(fun() -> ok end);
            ext_pid -> external_pid();
            port -> hd(erlang:ports());
            ext_port -> external_port();
            ext_ref -> external_ref();
            alias -> alias();
            magic -> atomics:new(1, [])
        end,
    {T, S1}.
