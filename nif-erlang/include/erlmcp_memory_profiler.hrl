%% erlmcp_memory_profiler:measure_memory_snapshot/0,1 result (erlmcp's
%% record name; fields documented in erlmcp_memory_profiler).
-record(memory_snapshot,
        {timestamp = 0 :: non_neg_integer(),              % Unix ms
         node = node() :: node(),
         rss_bytes = 0 :: non_neg_integer(),              % the OS's resident set of the node
         total_memory = 0 :: non_neg_integer(),           % erlang:memory(total)
         process_memory = 0 :: non_neg_integer(),         % erlang:memory(processes)
         binary_memory = 0 :: non_neg_integer(),
         ets_memory = 0 :: non_neg_integer(),
         process_count = 0 :: non_neg_integer(),
         connections = 0 :: non_neg_integer(),            % alive connection pids measured
         memory_per_connection = 0.0 :: float(),          % bytes: process + off-heap share + native
         gc_count = 0 :: non_neg_integer(),
         gc_words_reclaimed = 0 :: non_neg_integer(),
         gc_pause_max = 0 :: non_neg_integer(),          % ms; 0 when not measured
         gc_pause_measured = false :: boolean(),          % gc_pause_max measured (profiler's long_gc monitor)
         residual_bytes = 0.0 :: float(),                 % RSS - accounted (signed)
         valid = true :: boolean(),                       % every decomposition rule holds
         decomposition = #{} :: map()}).                  % memacct:decompose/1 result (no snapshot)
