%% erlmcp_memory_profiler:measure_memory_snapshot/0,1 result: erlmcp's
%% `#memory_snapshot{}' -- same name, same fields in the same order (an
%% 11-tuple), so code written against erlmcp's record (e.g.
%% `Snap#memory_snapshot.gc_pause_max > 100') works unchanged. Values are
%% measured by memacct (see the module doc of erlmcp_memory_profiler);
%% memacct's further figures (OS RSS, residual, per-connection total, the
%% decomposition) are in erlmcp_memory_profiler:measure_memory_detail/0,1.
-record(memory_snapshot,
        {timestamp = 0 :: integer(),        % Unix time, ms
         process_count = 0 :: integer(),    % erlang:system_info(process_count)
         total_memory = 0 :: integer(),     % bytes, erlang:memory(total) (not the OS RSS)
         process_memory = 0 :: integer(),   % bytes, erlang:memory(processes)
         binary_memory = 0 :: integer(),    % bytes, erlang:memory(binary)
         ets_memory = 0 :: integer(),       % bytes, erlang:memory(ets)
         atom_memory = 0 :: integer(),      % bytes, erlang:memory(atom)
         gc_collections = 0 :: integer(),   % GCs since the node started
         gc_reclaimed = 0 :: integer(),     % bytes reclaimed by GC since the node started
         gc_pause_max = 0 :: integer()}).   % ms, longest GC while profiling; 0 when not measured
