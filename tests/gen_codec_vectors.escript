#!/usr/bin/env escript
%%! -noshell
%%% Generates the compact-state golden vectors in tests/vectors/codec/.
%%%
%%%   escript tests/gen_codec_vectors.escript [OutDir]
%%%
%%% Step 1 (here, on a real BEAM): samples.txt, the ETF of realistic MCP
%%% connection states (memacct_sim) and of edge terms. Step 2 (the core, so
%%% every surface decodes bytes made by one implementation):
%%% `cargo run -p memacct-core --example codec_golden -- OutDir' trains the
%%% dictionaries and writes blobs.txt. Format: tests/vectors/README.md.
-mode(compile).

main(Args) ->
    Here = filename:dirname(escript:script_name()),
    Root = filename:dirname(filename:absname(Here)),
    OutDir = case Args of
                 [] -> filename:join(Root, "tests/vectors/codec");
                 [D] -> D
             end,
    Tmp = filename:join(OutDir, ".gen"),
    ok = filelib:ensure_dir(filename:join(Tmp, "x")),
    Sim = filename:join(Root, "nif-erlang/src/memacct_sim.erl"),
    {ok, memacct_sim} = compile:file(Sim, [{outdir, Tmp}, report]),
    code:add_patha(Tmp),
    {module, memacct_sim} = code:load_file(memacct_sim),
    %% Training states and test states are different connections.
    Train = [term_to_binary(memacct_sim:connection_state(N)) || N <- lists:seq(1, 48)],
    States = [{"state_" ++ integer_to_list(N), term_to_binary(memacct_sim:connection_state(N))}
              || N <- [101, 202, 303, 404, 505, 1234, 99999]],
    Edge = [{"nil", term_to_binary([])},
            {"small_int", term_to_binary(7)},
            {"atom_utf8", term_to_binary('ünïcödé_atom')},
            {"empty_binary", term_to_binary(<<>>)},
            {"binary_65", term_to_binary(binary:copy(<<"x">>, 65))},
            {"bitstring", term_to_binary(<<1:13>>)},
            {"bignum_neg", term_to_binary(-(1 bsl 200) - 12345)},
            {"float", term_to_binary(-0.0)},
            {"string", term_to_binary("hello, world")},
            {"improper", term_to_binary([a, b | c])},
            {"deep_list", term_to_binary(lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 2000)))},
            {"map_33", term_to_binary(maps:from_list([{I, I * I} || I <- lists:seq(1, 33)]))},
            {"map_key_map", term_to_binary(#{#{a => 1} => {x, "y"}})},
            {"fun_export", term_to_binary(fun lists:map/2)},
            {"pid_ref_port", term_to_binary({self(), make_ref(), hd(erlang:ports())})},
            {"minor_version_1_float", term_to_binary(3.25, [{minor_version, 0}])},
            {"compressed_input", term_to_binary(memacct_sim:connection_state(77), [compressed])},
            {"many_atoms", term_to_binary([list_to_atom("a" ++ integer_to_list(I)) || I <- lists:seq(1, 300)])}],
    Lines = [["train ", hex(B), "\n"] || B <- Train]
        ++ [["case ", Name, " ", hex(B), "\n"] || {Name, B} <- States ++ Edge],
    File = filename:join(OutDir, "samples.txt"),
    ok = file:write_file(File, ["# made by tests/gen_codec_vectors.escript on OTP ",
                                erlang:system_info(otp_release), "\n" | Lines]),
    ok = file:del_dir_r(Tmp),
    io:format("~s: ~b training states, ~b cases~n", [File, length(Train), length(States ++ Edge)]),
    Cmd = "cd " ++ Root ++ " && cargo run --release --locked -q -p memacct-core --example codec_golden -- "
        ++ OutDir ++ " 2>&1; echo \"exit=$?\"",
    Out = os:cmd(Cmd),
    io:put_chars(Out),
    case string:find(Out, "exit=0") of
        nomatch -> halt(1);
        _ -> ok
    end.

hex(B) -> binary:encode_hex(B).
