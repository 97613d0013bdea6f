%%% @doc Realistic MCP connection states, built the way erlmcp builds them.
%%%
%%% Every value is made at run time (from decoded-JSON-like maps, integers
%%% turned into binaries, timestamps, references and pids), never taken from
%%% module literals: a literal costs nothing on a process heap while
%%% `erts_debug:flat_size/1' still counts it, so literal-built states would
%%% make every measurement lie. Used by the demo, the benchmarks and tests.
%%%
%%% {@link start_connection/1} starts a real connection process: a
%%% `gen_server' (this module) whose state is {@link connection_state/2}
%%% built inside the process, as erlmcp's connection processes hold theirs.
%%%
%%% `gen_server:call(Pid, {compact, Pool})' moves the state into a memacct
%%% pool: the process stores it with {@link memacct_pool:acquire/3} (so it
%%% owns the entry, which the pool reclaims when the process exits), keeps
%%% only `{pooled, Pool, Handle}', replies `{ok, Handle}' and hibernates.
%%% `gen_server:call(Pid, expand)' takes it back onto the heap.
-module(memacct_sim).
-behaviour(gen_server).

-export([connection_state/1, connection_state/2, corpus/1]).
-export([start_connection/1, start_link_connection/1, start_connections/1, stop_connections/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-type state() :: #{atom() => term()}.
-type proc_state() :: state() | {pooled, memacct_pool:pool(), memacct_pool:handle()}.
%% What a connection process holds: its state, or the handle of its state
%% in a pool (after `{compact, Pool}').
-export_type([state/0, proc_state/0]).

%% @doc The state of connection number `N' (deterministic shape, fresh values).
-spec connection_state(non_neg_integer()) -> state().
connection_state(N) ->
    connection_state(N, self()).

%% @doc The state of connection `N' whose pending requests wait on `Owner'.
-spec connection_state(non_neg_integer(), pid()) -> state().
connection_state(N, Owner) ->
    Now = erlang:system_time(millisecond),
    NResources = 4 + N rem 13,
    NTools = 2 + N rem 7,
    NPending = N rem 5,
    #{session_id => session_id(N),
      protocol_version => iolist_to_binary(["2025-", pad(3 + N rem 4), "-", pad(18 + N rem 9)]),
      phase => lists:nth(1 + N rem 3, [initializing, initialized, operating]),
      transport => {tcp, #{peer => {{127, 0, (N bsr 8) band 255, N band 255}, 40000 + N rem 20000},
                           buffer => iolist_to_binary(lists:duplicate(N rem 3, <<"{\"jsonrpc\":\"2.0\"}">>))}},
      client_info => #{<<"name">> => lists:nth(1 + N rem 3, [<<"claude-code">>, <<"cursor">>, <<"zed">>]),
                       <<"version">> => iolist_to_binary(["1.", integer_to_list(N rem 40), ".", integer_to_list(N rem 9)])},
      client_capabilities => #{<<"roots">> => #{<<"listChanged">> => N rem 2 =:= 0},
                               <<"sampling">> => #{},
                               <<"elicitation">> => #{<<"enabled">> => N rem 3 =:= 0}},
      server_capabilities => #{resources => #{subscribe => true, list_changed => true},
                               tools => #{list_changed => N rem 2 =:= 1},
                               prompts => #{list_changed => false},
                               logging => #{}},
      resources => maps:from_list([resource(N, I) || I <- lists:seq(1, NResources)]),
      tools => maps:from_list([tool(N, I) || I <- lists:seq(1, NTools)]),
      subscriptions => [uri(N, I) || I <- lists:seq(1, N rem 4)],
      pending_requests => maps:from_list([{N * 100 + I, {make_ref(), Owner, method(I), Now - I * 17}}
                                          || I <- lists:seq(1, NPending)]),
      request_counter => N * 7 + 3,
      created_at => Now - (N rem 3600) * 1000,
      last_activity => Now,
      metadata => #{trace_id => session_id(N * 31 + 7), user_id => N rem 1000,
                    tags => [iolist_to_binary(["tag-", integer_to_list(N rem 17)])]}}.

%% @doc `Count' states (connections 1..Count), for benchmarks.
-spec corpus(pos_integer()) -> [state()].
corpus(Count) ->
    [connection_state(N) || N <- lists:seq(1, Count)].

%% @doc Starts connection process `N' (unlinked, unsupervised): a
%% `gen_server' holding `connection_state(N, self())', built in the process.
-spec start_connection(non_neg_integer()) -> pid().
start_connection(N) ->
    {ok, Pid} = gen_server:start(?MODULE, N, []),
    Pid.

%% @doc Connection process `N' linked to the caller (see
%% {@link memacct_sim_keeper}): `{ok, Pid}' or what `gen_server:start_link/3'
%% returned.
-spec start_link_connection(non_neg_integer()) -> {ok, pid()} | ignore | {error, term()}.
start_link_connection(N) ->
    gen_server:start_link(?MODULE, N, []).

%% @doc Connection processes 1..Count.
-spec start_connections(non_neg_integer()) -> [pid()].
start_connections(Count) ->
    [start_connection(N) || N <- lists:seq(1, Count)].

%% @doc Kills the processes and waits until every one is gone.
-spec stop_connections([pid()]) -> ok.
stop_connections(Pids) ->
    Mons = [{P, monitor(process, P)} || P <- Pids],
    _ = [exit(P, kill) || P <- Pids],
    _ = [receive {'DOWN', M, process, P, _} -> ok end || {P, M} <- Mons],
    ok.

%% @private
-spec init(non_neg_integer()) -> {ok, state()}.
init(N) ->
    {ok, connection_state(N, self())}.

%% @private
%% `size' answers the held term's flat size, `heap_size' the heap words it
%% occupies (`erts_debug:size_shared/1': literals not counted, shared
%% sub-terms once); `hibernate' replies `ok' and
%% hibernates with the state on the heap (compacted to its exact size);
%% `{compact, Pool}' moves the
%% state into `Pool' (see the module doc), `expand' takes it back, `state'
%% (or anything else) answers the state itself (read from the pool when
%% compacted).
-spec handle_call(term(), gen_server:from(), proc_state()) ->
          {reply, term(), proc_state()} | {reply, term(), proc_state(), hibernate}.
handle_call(size, _From, State) ->
    {reply, erts_debug:flat_size(State), State};
handle_call(heap_size, _From, State) ->
    {reply, erts_debug:size_shared(State), State};
handle_call(hibernate, _From, State) ->
    {reply, ok, State, hibernate};
handle_call({compact, Pool}, _From, State) when is_map(State) ->
    case memacct_pool:acquire(Pool, session, State) of
        {ok, Handle} -> {reply, {ok, Handle}, {pooled, Pool, Handle}, hibernate};
        {error, _} = Error -> {reply, Error, State}
    end;
handle_call({compact, _Pool}, _From, {pooled, _, Handle} = State) ->
    {reply, {ok, Handle}, State, hibernate};
handle_call(expand, _From, {pooled, Pool, Handle} = State) ->
    case memacct_pool:get(Pool, Handle) of
        {ok, Value} ->
            _ = memacct_pool:release(Pool, Handle),
            {reply, ok, Value};
        {error, _} = Error -> {reply, Error, State}
    end;
handle_call(_Req, _From, {pooled, Pool, Handle} = State) ->
    {reply, memacct_pool:get(Pool, Handle), State};
handle_call(_Req, _From, State) ->
    {reply, State, State}.

%% @private
-spec handle_cast(term(), proc_state()) -> {noreply, proc_state()}.
handle_cast({grow, Bytes}, State) when is_map(State) ->
    {noreply, State#{ballast => binary:copy(<<0>>, Bytes)}};
handle_cast(_Msg, State) ->
    {noreply, State}.

session_id(N) ->
    Hash = erlang:md5(<<N:64, "memacct">>),
    iolist_to_binary([<<"sess-">>, [io_lib:format("~2.16.0b", [B]) || <<B>> <= Hash]]).

pad(N) when N < 10 -> [$0 | integer_to_list(N)];
pad(N) -> integer_to_list(N).

uri(N, I) ->
    iolist_to_binary(["file:///srv/project-", integer_to_list(N rem 50), "/src/module_", integer_to_list(I), ".erl"]).

resource(N, I) ->
    {uri(N, I), #{name => iolist_to_binary(["module_", integer_to_list(I), ".erl"]),
                  mime_type => <<"text/x-erlang">>,
                  size => 1000 + (N * I) rem 50000,
                  annotations => #{priority => (I rem 10) / 10, audience => [user]}}}.

tool(N, I) ->
    Name = iolist_to_binary(["tool_", integer_to_list(I), "_", integer_to_list(N rem 5)]),
    {Name, #{description => iolist_to_binary(["Runs ", Name, " on the workspace and returns structured output."]),
             input_schema => #{<<"type">> => <<"object">>,
                               <<"properties">> => #{<<"path">> => #{<<"type">> => <<"string">>},
                                                     <<"limit">> => #{<<"type">> => <<"integer">>,
                                                                      <<"maximum">> => 100 + I}},
                               <<"required">> => [<<"path">>]}}}.

method(I) ->
    lists:nth(1 + I rem 4, [<<"tools/call">>, <<"resources/read">>, <<"sampling/createMessage">>, <<"ping">>]).
