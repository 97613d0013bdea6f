%%% @doc Simulated connections ({@link memacct_sim}) tied to an owner
%%% process: they never outlive it.
%%%
%%% A keeper process starts the connections (linked to the keeper, so they
%%% die if it is killed), traps their exits and monitors the owner. It stops
%%% them all when the owner exits (any reason, even killed), when asked to
%%% ({@link stop/1}), when a start fails (e.g. `system_limit': the connections
%%% already started are stopped before the error is returned), or when their
%%% lifetime is over. The owner is never linked to anything.
-module(memacct_sim_keeper).

-export([start/3, add/3, stop/1]).

-compile(warn_missing_spec_all).

%% @doc A keeper of connections owned by `Owner' that stops them after
%% `Lifetime' ms (or never: `infinity'); with `EndWhenEmpty' it also ends
%% once every connection it started has exited.
-spec start(pid(), timeout(), boolean()) -> pid().
start(Owner, Lifetime, EndWhenEmpty) ->
    spawn(fun() -> init(Owner, Lifetime, EndWhenEmpty) end).

%% @doc Starts connections `First'..`Last' (memacct_sim's numbering): their
%% pids in that order, or the error of the start that failed (the keeper
%% then stopped every connection and ended).
-spec add(pid(), pos_integer(), non_neg_integer()) -> {ok, [pid()]} | {error, term()}.
add(Keeper, First, Last) ->
    MRef = monitor(process, Keeper),
    Keeper ! {add, self(), MRef, First, Last},
    receive
        {MRef, Reply} ->
            demonitor(MRef, [flush]),
            Reply;
        {'DOWN', MRef, process, _, Reason} ->
            {error, {connection_keeper_down, Reason}}
    end.

%% @doc Stops every connection and the keeper; returns once they are all gone.
-spec stop(pid()) -> ok.
stop(Keeper) ->
    MRef = monitor(process, Keeper),
    Keeper ! {stop, MRef},
    receive {'DOWN', MRef, process, _, _} -> ok end.

-spec init(pid(), timeout(), boolean()) -> ok.
init(Owner, Lifetime, EndWhenEmpty) ->
    process_flag(trap_exit, true),
    ORef = monitor(process, Owner),
    _ = case Lifetime of
            infinity -> ok;
            _ -> erlang:send_after(Lifetime, self(), lifetime_over)
        end,
    loop(ORef, EndWhenEmpty, #{}).

-spec loop(reference(), boolean(), #{pid() => true}) -> ok.
loop(ORef, EndWhenEmpty, Pids) ->
    receive
        {'DOWN', ORef, process, _, _} ->
            stop_all(Pids);
        lifetime_over ->
            stop_all(Pids);
        {stop, _Ref} ->
            stop_all(Pids);
        {add, From, Ref, First, Last} ->
            case start_range(First, Last, ORef, Pids, []) of
                {ok, New, Pids1} ->
                    From ! {Ref, {ok, New}},
                    loop(ORef, EndWhenEmpty, Pids1);
                {error, Reason, Pids1} ->
                    stop_all(Pids1),
                    From ! {Ref, {error, Reason}},
                    ok;
                {owner_down, Pids1} ->
                    stop_all(Pids1)
            end;
        {'EXIT', Pid, _} ->
            Pids1 = maps:remove(Pid, Pids),
            case EndWhenEmpty andalso map_size(Pids1) =:= 0 of
                true -> ok;
                false -> loop(ORef, EndWhenEmpty, Pids1)
            end;
        _ ->
            loop(ORef, EndWhenEmpty, Pids)
    end.

-spec start_range(pos_integer(), non_neg_integer(), reference(), #{pid() => true}, [pid()]) ->
          {ok, [pid()], #{pid() => true}} | {error, term(), #{pid() => true}} |
          {owner_down, #{pid() => true}}.
start_range(N, Last, _ORef, Pids, Acc) when N > Last ->
    {ok, lists:reverse(Acc), Pids};
start_range(N, Last, ORef, Pids, Acc) ->
    receive
        {'DOWN', ORef, process, _, _} -> {owner_down, Pids}
    after 0 ->
            try memacct_sim:start_link_connection(N) of
                {ok, Pid} ->
                    start_range(N + 1, Last, ORef, Pids#{Pid => true}, [Pid | Acc]);
                Other ->
                    {error, Other, Pids}
            catch
                Class:Reason when Class =:= error; Class =:= exit ->
                    {error, Reason, Pids}
            end
    end.

-spec stop_all(#{pid() => true}) -> ok.
stop_all(Pids) ->
    memacct_sim:stop_connections(maps:keys(Pids)).
