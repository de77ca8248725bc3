using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Prompts.Agents;
using Microsoft.Extensions.AI;
using CausalEval.Models.Middleware;

namespace CausalEval.Models.Tests;

/// <summary>
/// The response cache: an identical rerun makes no model call and scores the same, another epoch or prompt is a miss,
/// failures are never stored, and the SQLite file is safe for concurrent trials and for two processes at once.
/// </summary>
public class CacheTests
{
    private static readonly ChatEndpoint Endpoint = new("openai", "https://api.example/v1", "gpt-x", "openai/gpt-x?temperature=0");

    private static byte[] Key(ChatCall call, string text = "hello", float temperature = 0, ChatEndpoint? endpoint = null) =>
        ResponseCacheClient.Key(endpoint ?? Endpoint, new ChatOptions { Temperature = temperature, MaxOutputTokens = 512, Seed = 7 },
            [new ChatMessage(ChatRole.System, "rules"), new ChatMessage(ChatRole.User, text)], call);

    [Fact]
    public void The_key_covers_the_trial_epoch_turn_messages_settings_and_endpoint()
    {
        var call = new ChatCall("trial-1", 1, 0);
        Assert.Equal(Key(call), Key(new ChatCall("trial-1", 1, 0)));
        Assert.NotEqual(Key(call), Key(call with { Epoch = 2 }));
        Assert.NotEqual(Key(call), Key(call with { Turn = 1 }));
        Assert.NotEqual(Key(call), Key(call with { TrialId = "trial-2" }));
        Assert.NotEqual(Key(call), Key(call, text: "hello!"));
        Assert.NotEqual(Key(call), Key(call, temperature: 0.5f));
        Assert.NotEqual(Key(call), Key(call, endpoint: Endpoint with { Endpoint = "http://localhost:8000/v1" }));
        Assert.NotEqual(Key(call), Key(call, endpoint: Endpoint with { Provider = "azure" }));
        Assert.Equal(32, Key(call).Length);
    }

    [Fact]
    public void The_key_is_the_sha256_of_the_calls_canonical_json_so_caches_written_before_still_answer()
    {
        // Written out by hand: the key format of existing cache files (version 1), with texts the JSON writer escapes.
        const string canonical = """
            {"v":1,"provider":"openai","endpoint":"https://api.example/v1","model":"gpt-x","model_id":"openai/gpt-x?temperature=0","settings":{"temperature":0,"max_output_tokens":512,"seed":7,"top_p":null,"top_k":null,"frequency_penalty":null,"presence_penalty":null,"model_override":null,"response_format":null,"stop":[]},"trial_id":"trial-1","epoch":2,"turn":1,"messages":[["system","rules"],["user","A\u002BB \u003E C\nx = \u00E9 \u2014 \u0022q\u0022 \u0026 \u003Cb\u003E"],["assistant","ACTION: do(A = 5)"]]}
            """;
        var expected = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical));
        ChatMessage[] messages = [new(ChatRole.System, "rules"), new(ChatRole.User, "A+B > C\nx = é — \"q\" & <b>"), new(ChatRole.Assistant, "ACTION: do(A = 5)")];
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 512, Seed = 7 };

        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ResponseCacheClient.Key(Endpoint, options, messages, new ChatCall("trial-1", 2, 1))));
        // The same messages again (a later turn extends the conversation it sent before) and fresh copies of them agree.
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ResponseCacheClient.Key(Endpoint, options, messages, new ChatCall("trial-1", 2, 1))));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ResponseCacheClient.Key(Endpoint, options,
            [.. messages.Select(m => new ChatMessage(m.Role, new string(m.Text.AsSpan())))], new ChatCall("trial-1", 2, 1))));
    }

    [Fact]
    public void A_trials_memo_gives_the_keys_computed_without_it_and_writes_a_changed_message_again()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 512, Seed = 7 };
        var memo = new CallMemo();
        byte[] With(IReadOnlyList<ChatMessage> messages, int turn) =>
            ResponseCacheClient.Key(Endpoint, options, messages, new ChatCall("t", 1, turn) { Memo = memo });
        byte[] Without(IReadOnlyList<ChatMessage> messages, int turn) =>
            ResponseCacheClient.Key(Endpoint, options, [.. messages.Select(m => new ChatMessage(m.Role, new string(m.Text.AsSpan())))], new ChatCall("t", 1, turn));

        // A conversation that grows turn by turn, as the LLM agent sends it (the same message objects each time).
        var conversation = new List<ChatMessage> { new(ChatRole.System, "rules \"q\" <b>"), new(ChatRole.User, "first question\n") };
        Assert.Equal(Without(conversation, 0), With(conversation, 0));
        conversation.Add(new ChatMessage(ChatRole.Assistant, "ACTION: do(A = 5)"));
        conversation.Add(new ChatMessage(ChatRole.User, "é — next"));
        Assert.Equal(Without(conversation, 1), With(conversation, 1));

        // A message changed in place, or another message at a position the memo knows, is written again.
        var before = With(conversation, 1);
        conversation[1].Contents = [new TextContent("first question, changed")];
        Assert.Equal(Without(conversation, 1), With(conversation, 1));
        Assert.NotEqual(before, With(conversation, 1));
        conversation[3] = new ChatMessage(ChatRole.User, "another next");
        Assert.Equal(Without(conversation, 1), With(conversation, 1));
        // A shorter conversation (another trial would not share the memo, but nothing may depend on that) still agrees.
        Assert.Equal(Without(conversation.GetRange(0, 2), 0), With(conversation.GetRange(0, 2), 0));
    }

    [Fact]
    public void Keys_of_long_and_short_messages_one_after_another_hash_the_json_one_writer_writes()
    {
        // A message longer than the reused buffer is kept for, then short ones: each message's bytes are its own.
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 512, Seed = 7 };
        foreach (var length in new[] { 300_000, 5, 70_000, 0, 12 })
        {
            var text = string.Concat(Enumerable.Repeat("é<\"x\"\n", length / 6 + 1))[..length];
            ChatMessage[] messages = [new(ChatRole.System, "rules"), new(ChatRole.User, text)];
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteNumber("v", 1);
                writer.WriteString("provider", Endpoint.Provider);
                writer.WriteString("endpoint", Endpoint.Endpoint);
                writer.WriteString("model", Endpoint.Model);
                writer.WriteString("model_id", Endpoint.ModelId);
                writer.WriteStartObject("settings");
                writer.WriteNumber("temperature", 0);
                writer.WriteNumber("max_output_tokens", 512);
                writer.WriteNumber("seed", 7);
                foreach (var name in new[] { "top_p", "top_k", "frequency_penalty", "presence_penalty", "model_override", "response_format" })
                {
                    writer.WriteNull(name);
                }
                writer.WriteStartArray("stop");
                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.WriteString("trial_id", "t");
                writer.WriteNumber("epoch", 1);
                writer.WriteNumber("turn", 0);
                writer.WriteStartArray("messages");
                foreach (var message in messages)
                {
                    writer.WriteStartArray();
                    writer.WriteStringValue(message.Role.Value);
                    writer.WriteStringValue(message.Text);
                    writer.WriteEndArray();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(buffer.WrittenSpan)),
                Convert.ToHexString(ResponseCacheClient.Key(Endpoint, options, messages, new ChatCall("t", 1, 0))));
        }
    }

    [Fact]
    public void Two_stores_on_one_file_written_from_many_threads_at_once_keep_every_answer()
    {
        var directory = Path.Combine(Path.GetTempPath(), "causaleval-cache-" + Guid.NewGuid().ToString("N"));
        var warnings = new List<string>();
        try
        {
            // Two stores stand for two processes: separate connection pools on one WAL database.
            var stores = new[] { new ResponseCacheStore(directory, warnings.Add), new ResponseCacheStore(directory, warnings.Add) };
            Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, worker =>
            {
                var store = stores[worker % 2];
                for (var i = 0; i < 100; i++)
                {
                    var key = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{worker}/{i}"));
                    store.Put(key, $"model-{worker % 3}", new CachedAnswer($"answer {worker}/{i}", "stop", "m", i, 1), DateTimeOffset.UnixEpoch);
                    Assert.Equal($"answer {worker}/{i}", stores[(worker + 1) % 2].Get(key)?.Text);
                }
            });

            Assert.Empty(warnings);
            Assert.Equal(1600, stores[0].Stats().Sum(s => s.Answers));
            Assert.Equal(1600 / 16 * 6, stores[1].Stats().Single(s => s.Model == "model-0").Answers);
            Assert.Equal(1600, stores[1].Clear());
            Assert.Empty(stores[0].Stats());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_store_reusing_its_prepared_statements_sees_another_stores_clear_and_still_answers_once_disposed()
    {
        var directory = Path.Combine(Path.GetTempPath(), "causaleval-cache-" + Guid.NewGuid().ToString("N"));
        var warnings = new List<string>();
        try
        {
            var store = new ResponseCacheStore(directory, warnings.Add);
            var other = new ResponseCacheStore(directory, warnings.Add);
            var keys = Enumerable.Range(0, 50).Select(i => System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))).ToArray();
            foreach (var (key, i) in keys.Select((k, i) => (k, i)))
            {
                store.Put(key, "m", new CachedAnswer($"answer {i}", i % 2 == 0 ? "stop" : null, null, i, 2 * i), DateTimeOffset.UnixEpoch);
                // The same key again is kept as first written (ON CONFLICT DO NOTHING), through the same prepared insert.
                store.Put(key, "m", new CachedAnswer("later", null, null, 0, 0), DateTimeOffset.UnixEpoch);
            }
            Assert.All(keys.Select((k, i) => (k, i)), p =>
                Assert.Equal(new CachedAnswer($"answer {p.i}", p.i % 2 == 0 ? "stop" : null, null, p.i, 2 * p.i), store.Get(p.k)));

            Assert.Equal(50, other.Clear());
            Assert.All(keys, k => Assert.Null(store.Get(k)));

            store.Dispose();
            store.Put(keys[0], "m", new CachedAnswer("after", null, null, 1, 1), DateTimeOffset.UnixEpoch);
            Assert.Equal("after", store.Get(keys[0])?.Text);
            Assert.Equal("after", other.Get(keys[0])?.Text);
            Assert.Empty(warnings);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_write_waiting_for_a_locked_file_holds_up_no_read_of_its_store_and_is_in_the_file_when_it_returns()
    {
        using var folder = new CacheFolder();
        using var store = new ResponseCacheStore(folder.Path, folder.Warnings.Add);
        var first = System.Security.Cryptography.SHA256.HashData("first"u8);
        var second = System.Security.Cryptography.SHA256.HashData("second"u8);
        store.Put(first, "m", new CachedAnswer("one", "stop", null, 1, 1), DateTimeOffset.UnixEpoch);

        // Another process holds the write lock: the store's next write waits for it (busy timeout) on the connection it took.
        var (locker, transaction, put) = await PutWhileLockedAsync(store, second, new CachedAnswer("two", "stop", null, 2, 2));
        using var _ = locker;

        // Reads of the same store go on meanwhile (another connection; WAL readers do not wait for a writer) ...
        Assert.Equal("one", store.Get(first)?.Text);
        Assert.Null(store.Get(second));
        Assert.False(put.IsCompleted);

        // ... and once the lock is let go, the write lands: committed before Put returned, seen from a fresh store.
        transaction.Rollback();
        transaction.Dispose();
        await put;
        using var fresh = new ResponseCacheStore(folder.Path, folder.Warnings.Add);
        Assert.Equal("two", fresh.Get(second)?.Text);
        Assert.Equal("two", store.Get(second)?.Text);
        Assert.Empty(folder.Warnings);
    }

    [Fact]
    public async Task A_store_disposed_while_a_write_waits_still_stores_that_answer_and_answers_after()
    {
        using var folder = new CacheFolder();
        var store = new ResponseCacheStore(folder.Path, folder.Warnings.Add);
        var keys = Enumerable.Range(0, 3).Select(i => System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))).ToArray();
        store.Put(keys[0], "m", new CachedAnswer("zero", null, null, 0, 0), DateTimeOffset.UnixEpoch);

        var (locker, transaction, put) = await PutWhileLockedAsync(store, keys[1], new CachedAnswer("one", null, null, 1, 1));
        using var _ = locker;
        store.Dispose();
        transaction.Rollback();
        transaction.Dispose();
        await put;

        store.Put(keys[2], "m", new CachedAnswer("two", null, null, 2, 2), DateTimeOffset.UnixEpoch);
        Assert.Equal(["zero", "one", "two"], keys.Select(k => store.Get(k)?.Text));
        using var fresh = new ResponseCacheStore(folder.Path, folder.Warnings.Add);
        Assert.Equal(["zero", "one", "two"], keys.Select(k => fresh.Get(k)?.Text));
        Assert.Empty(folder.Warnings);
    }

    /// <summary>A fresh cache folder and the warnings its stores report; deleted (pooled connections closed first) when disposed.</summary>
    private sealed class CacheFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "causaleval-cache-" + Guid.NewGuid().ToString("N"));

        public List<string> Warnings { get; } = [];

        public void Dispose()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }

    /// <summary>
    /// Takes the file's write lock on a connection of its own (another process, as SQLite sees it), then starts a
    /// <see cref="ResponseCacheStore.Put"/> of <paramref name="key"/>, which waits for the lock until the transaction ends.
    /// </summary>
    private static async Task<(Microsoft.Data.Sqlite.SqliteConnection Locker, Microsoft.Data.Sqlite.SqliteTransaction Lock, Task Put)> PutWhileLockedAsync(
        ResponseCacheStore store, byte[] key, CachedAnswer answer)
    {
        var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.FilePath};Pooling=False");
        locker.Open();
        var transaction = locker.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);
        using var started = new ManualResetEventSlim();
        var put = Task.Run(() =>
        {
            started.Set();
            store.Put(key, "m", answer, DateTimeOffset.UnixEpoch);
        });
        started.Wait();
        await Task.Delay(100);
        return (locker, transaction, put);
    }

    [Fact]
    public void One_store_read_and_written_from_many_threads_at_once_sees_each_answer_as_soon_as_it_is_stored()
    {
        using var folder = new CacheFolder();
        using var store = new ResponseCacheStore(folder.Path, folder.Warnings.Add);
        using var reader = new ResponseCacheStore(folder.Path, folder.Warnings.Add);
        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 32 }, worker =>
        {
            for (var i = 0; i < 50; i++)
            {
                var key = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{worker}/{i}"));
                Assert.Null(store.Get(key));
                store.Put(key, "m", new CachedAnswer($"answer {worker}/{i}", "stop", "m", i, 1), DateTimeOffset.UnixEpoch);
                Assert.Equal($"answer {worker}/{i}", store.Get(key)?.Text);
                Assert.Equal($"answer {worker}/{i}", reader.Get(key)?.Text);
            }
        });

        Assert.Empty(folder.Warnings);
        Assert.Equal(1600, reader.Stats().Sum(s => s.Answers));
    }

    [Fact]
    public async Task Failures_are_never_cached()
    {
        var directory = Path.Combine(Path.GetTempPath(), "causaleval-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var clock = new FakeClock();
            using var server = new ScriptedServer(Reply.Error(500, "server_error", "down"), Reply.Ok());
            var policy = new CallPolicy { Cache = new CacheSettings(true, directory), Resilience = new ResilienceSettings { Retries = 0 } };
            string[] model = [$"openai-compatible/m@{server.BaseUrl}"];

            var failed = Assert.Single(await Pipeline.RunAsync(clock, policy, model));
            var answered = Assert.Single(await Pipeline.RunAsync(clock, policy, model));
            var cached = Assert.Single(await Pipeline.RunAsync(clock, policy, model));

            Assert.Equal("server_error", failed.Error!.Kind);
            Assert.Null(answered.Error);
            Assert.False(answered.Transcript!.Steps[0].Decision.Cached);
            Assert.True(cached.Transcript!.Steps[0].Decision.Cached);
            Assert.Equal(2, server.Requests); // the failure was not stored: the second run asked again; the third did not
            Assert.Equal(answered.Usage.InputTokens, cached.Usage.CachedInputTokens);
            Assert.Equal(0, cached.Usage.InputTokens);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void An_identical_second_run_makes_zero_model_calls_and_scores_the_same_while_another_epoch_or_prompt_misses()
    {
        using var server = new LatencyServer(TimeSpan.FromMilliseconds(10));
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-rerun-" + Guid.NewGuid().ToString("N"));
        var cache = Path.Combine(folder, "cache");
        var environment = new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "k" };
        (int Code, string Out, string Error) Run(string output, params string[] more) => Cli.Run(folder, environment,
            ["run", "--datasets", Repo.Datasets, "--task", "explore-exploit", "--task", "passive-exploit-interventional",
             "--model", $"openai-compatible/m@{server.BaseUrl}", "--prompt", "zero-shot", "--episodes", "3", "--concurrency", "4",
             "--cache-dir", cache, "--out", Path.Combine(folder, output), "--quiet", .. more]);
        try
        {
            var first = Run("first");
            Assert.True(first.Code == 0, first.Error);
            var calls = server.Requests;
            Assert.Equal(3 * 7 + 3 * 1, calls); // explore-exploit: 5 experiments, exploit, structure; passive: one call

            var second = Run("second");

            Assert.True(second.Code == 0, second.Error);
            Assert.Equal(calls, server.Requests); // zero model calls
            var a = Trials(Path.Combine(folder, "first"));
            var b = Trials(Path.Combine(folder, "second"));
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (id, trial) in a)
            {
                var again = b[id];
                Assert.Equal(trial["scores"]!.ToJsonString(), again["scores"]!.ToJsonString());
                Assert.Equal(0, again["usage"]!["input_tokens"]!.GetValue<long>());
                Assert.Equal(trial["usage"]!["input_tokens"]!.GetValue<long>(), again["usage"]!["cached_input_tokens"]!.GetValue<long>());
                Assert.Equal(trial["usage"]!["output_tokens"]!.GetValue<long>(), again["usage"]!["cached_output_tokens"]!.GetValue<long>());
                Assert.All(again["steps"]!.AsArray(), s => Assert.True(s!["cached"]!.GetValue<bool>()));
                Assert.All(trial["steps"]!.AsArray(), s => Assert.Null(s!["cached"]));
                Assert.Equal(0, again["cost"]!.GetValue<double>());
            }
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "second", "run.json")))!;
            Assert.Equal(0, manifest["usage"]!["input_tokens"]!.GetValue<long>());
            Assert.True(manifest["usage"]!["cached_input_tokens"]!.GetValue<long>() > 0);
            Assert.Contains("tokens answered from the response cache at no cost", second.Out);

            // Another epoch is another trial: epoch 1 is answered from the cache, epoch 2 asks the model.
            Assert.True(Run("epochs", "--epochs", "2").Code == 0);
            Assert.Equal(2 * calls, server.Requests);
            // Another prompt variant is another conversation: every call misses.
            Assert.True(Run("few-shot", "--prompt", "few-shot").Code == 0);
            Assert.Equal(3 * calls, server.Requests);
            // --no-cache neither reads nor writes.
            Assert.True(Run("uncached", "--no-cache").Code == 0);
            Assert.Equal(4 * calls, server.Requests);

            var stats = Cli.Run(folder, environment, "cache", "stats", "--cache-dir", cache);
            Assert.True(stats.Code == 0, stats.Error);
            Assert.Contains($"| openai-compatible/m@{server.BaseUrl} | 72 |", stats.Out);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Two_runs_at_once_share_one_cache_file()
    {
        using var server = new LatencyServer(TimeSpan.FromMilliseconds(5));
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-twoproc-" + Guid.NewGuid().ToString("N"));
        var cache = Path.Combine(folder, "cache");
        var environment = new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "k" };
        Task<(int Code, string Out, string Error)> Start(string output, string task) => Task.Run(() => Cli.Run(folder, environment,
            "run", "--datasets", Repo.Datasets, "--task", task, "--model", $"openai-compatible/m@{server.BaseUrl}", "--prompt", "zero-shot",
            "--episodes", "20", "--concurrency", "8", "--cache-dir", cache, "--out", Path.Combine(folder, output), "--quiet"));
        try
        {
            var runs = await Task.WhenAll(Start("a", "explore-exploit"), Start("b", "explore-exploit-heldout-link"));

            Assert.All(runs, r => Assert.True(r.Code == 0, r.Error));
            Assert.All(runs, r => Assert.DoesNotContain("response cache", r.Error));
            // One call per step, each answered once and stored once, from whichever process made it.
            var calls = new[] { "a", "b" }.Sum(r => Trials(Path.Combine(folder, r)).Values.Sum(t => t["steps"]!.AsArray().Count));
            Assert.Equal(calls, server.Requests);
            var stats = Cli.Run(folder, environment, "cache", "stats", "--cache-dir", cache);
            Assert.Contains($"| openai-compatible/m@{server.BaseUrl} | {calls} |", stats.Out);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Dictionary<string, JsonObject> Trials(string run) =>
        File.ReadAllLines(Path.Combine(run, "trials.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())
            .ToDictionary(t => t["trial_id"]!.GetValue<string>());
}
