using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using CausalEval.Core.Results;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

/// <summary>
/// Servers that misbehave on purpose — echo keys, bill impossible usage, ask for endless waits, send endless bodies,
/// answer 200 with nothing in it, redirect — through the production pipeline on a fake clock. Each trial ends with an
/// answer or a classified error; no key, negative cost or unbounded wait gets through.
/// </summary>
public class HostileServerTests
{
    private static readonly CallPolicy Policy = new()
    {
        Cache = new CacheSettings(Enabled: false),
        Resilience = new ResilienceSettings { Retries = 3, AttemptTimeout = TimeSpan.FromSeconds(60), CallTimeout = TimeSpan.FromMinutes(10) },
    };

    private static string Model(ScriptedServer server) => $"openai-compatible/m@{server.BaseUrl}";

    private static async Task<TrialRecord> PlayOne(ScriptedServer server, CallPolicy? policy = null, string key = Pipeline.CompatibleKey)
        => Assert.Single(await Pipeline.RunAsync(new FakeClock(), policy ?? Policy, [Model(server)], key: key));

    /// <summary>A chat completion with usage exactly as given (raw JSON), so that tests can bill impossible numbers.</summary>
    private static string Completion(string answer, string usage, string finishReason = "stop") =>
        $$"""{"id":"c","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":{{JsonSerializer.Serialize(answer)}}},"finish_reason":"{{finishReason}}"}],"usage":{{usage}}}""";

    /// <summary>The trial's line as the result store writes it.</summary>
    private static string Line(TrialRecord trial)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, trial);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static bool Leaks(string text, string key) =>
        Enumerable.Range(0, key.Length - KeyRedactor.MinimumLength + 1).Any(i => text.Contains(key.Substring(i, KeyRedactor.MinimumLength), StringComparison.Ordinal));

    // --- 1–3: keys --------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_key_echoed_in_a_successful_answer_reaches_neither_the_trial_nor_the_response_cache()
    {
        var cache = Directory.CreateTempSubdirectory("causaleval-echo-cache-");
        try
        {
            using var server = new ScriptedServer(Reply.Ok($"Debug: your key is {Pipeline.CompatibleKey}, or {Pipeline.CompatibleKey[1..^1]}.\nACTION: do(A = 5)"));
            var policy = Policy with { Cache = new CacheSettings(true, cache.FullName) };

            var trial = await PlayOne(server, policy);

            Assert.Null(trial.Error);
            var answer = trial.Transcript!.Steps[0].Decision.RawAnswer!;
            Assert.False(Leaks(answer, Pipeline.CompatibleKey), answer);
            Assert.Contains("your key is [redacted], or [redacted].", answer);
            // The trial line as written, and every byte of the SQLite cache (database and WAL).
            Assert.False(Leaks(Line(trial), Pipeline.CompatibleKey));
            var files = Directory.EnumerateFiles(cache.FullName, "*", SearchOption.AllDirectories).ToList();
            Assert.NotEmpty(files);
            foreach (var file in files)
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
                Assert.False(Leaks(reader.ReadToEnd(), Pipeline.CompatibleKey), $"{Path.GetFileName(file)} holds a piece of the key");
            }
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(0, 1)] // the key minus its last character
    [InlineData(2, 0)] // the key without its first two characters
    public async Task A_401_quoting_part_of_the_key_is_redacted(int cutStart, int cutEnd)
    {
        using var server = new ScriptedServer(Reply.Error(401, "invalid_api_key",
            $"Incorrect API key provided: {Pipeline.CompatibleKey[cutStart..^cutEnd]}."));

        var trial = await PlayOne(server);

        Assert.Equal("auth", trial.Error!.Kind);
        Assert.False(Leaks(trial.Error.Message, Pipeline.CompatibleKey), trial.Error.Message);
        Assert.Contains("Incorrect API key provided: [redacted].", trial.Error.Message);
    }

    [Fact]
    public async Task A_one_letter_placeholder_key_leaves_answers_and_messages_as_they_are()
    {
        using var server = new ScriptedServer(
            Reply.Error(400, "invalid_request_error", "ClientError: the request was invalid"),
            Reply.Ok());
        var policy = Policy;

        var refused = await PlayOne(server, policy, key: "e");
        using var answering = new ScriptedServer(Reply.Ok("Next experiment. ACTION: do(E = 5)"));
        var answered = await PlayOne(answering, policy, key: "e");

        Assert.DoesNotContain("[redacted]", refused.Error!.Message);
        Assert.Contains("ClientError: the request was invalid", refused.Error.Message);
        Assert.Equal("Next experiment. ACTION: do(E = 5)", answered.Transcript!.Steps[0].Decision.RawAnswer);
    }

    // --- 4–5: money ---------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("""{"prompt_tokens":-4000000,"completion_tokens":9,"total_tokens":-3999991}""", true)]
    [InlineData("""{"prompt_tokens":120,"completion_tokens":-20,"total_tokens":100}""", true)]
    [InlineData("""{"prompt_tokens":2000000000,"completion_tokens":9,"total_tokens":2000000009}""", true)]
    [InlineData("""{"prompt_tokens":1000000000000000000,"completion_tokens":9,"total_tokens":1000000000000000009}""", false)] // the SDK cannot read it
    public async Task Negative_or_absurd_usage_is_a_bad_response_and_costs_nothing(string usage, bool readable)
    {
        using var server = new ScriptedServer(new Reply(200, Completion("ACTION: do(A = 5)", usage)));
        var policy = Policy with { Prices = new PriceTable([new ModelPrice("openai-compatible/*", 1000, 1000)], "test") };

        var trial = await PlayOne(server, policy);

        Assert.True("bad_response" == trial.Error!.Kind, trial.Error.Message);
        if (readable)
        {
            Assert.Contains("impossible usage", trial.Error.Message);
        }
        Assert.Equal(1 + Policy.Resilience.Retries, server.Requests); // retried like a malformed answer
        Assert.Equal(0, trial.Cost);
        Assert.Equal(default, trial.Usage);
    }

    [Fact]
    public async Task A_filtered_answer_is_not_retried_but_the_tokens_the_server_billed_for_it_are_counted_and_priced()
    {
        using var server = new ScriptedServer(new Reply(200, Completion("", """{"prompt_tokens":300,"completion_tokens":40,"total_tokens":340}""", "content_filter")));
        var policy = Policy with { Prices = new PriceTable([new ModelPrice("openai-compatible/*", 2, 10)], "test") };

        var trial = await PlayOne(server, policy);

        Assert.Equal("content_filter", trial.Error!.Kind);
        Assert.Equal(new Usage(300, 40), trial.Usage);
        Assert.Equal((300 * 2.0 + 40 * 10.0) / 1e6, trial.Cost, 12);
    }

    [Fact]
    public async Task Provider_prompt_cache_hits_are_recorded_apart_and_priced_at_the_cached_rate()
    {
        using var server = new ScriptedServer(new Reply(200, Completion("ACTION: do(A = 5)",
            """{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,"prompt_tokens_details":{"cached_tokens":800}}""")));
        var policy = Policy with { Prices = new PriceTable([new ModelPrice("openai-compatible/*", 2.5, 10, CachedInputPerMillion: 1.25)], "test") };

        var trial = await PlayOne(server, policy);

        Assert.Null(trial.Error);
        Assert.Equal(new Usage(1000, 50, PromptCacheTokens: 800), trial.Usage);
        // By hand: 200 uncached input at $2.50/M, 800 cached at $1.25/M, 50 output at $10/M.
        Assert.Equal((200 * 2.5 + 800 * 1.25 + 50 * 10) / 1e6, trial.Cost, 12);
        var line = System.Text.Json.Nodes.JsonNode.Parse(Line(trial))!;
        Assert.Equal(800, line["usage"]!["prompt_cache_tokens"]!.GetValue<long>());
        // Without a cached rate, cached input costs the input price.
        Assert.Equal((1000 * 2.5 + 50 * 10) / 1e6, new ModelPrice("x", 2.5, 10).CostUsd(trial.Usage), 12);
    }

    // --- 6, 7, 9: time ------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("86400")]
    [InlineData("1e300")]
    [InlineData("Fri, 31 Dec 9999 23:59:59 GMT")]
    public async Task A_Retry_After_beyond_the_call_budget_fails_fast_as_rate_limited_with_the_reason(string retryAfter)
    {
        using var server = new ScriptedServer(Reply.Error(429, "rate_limit_exceeded", "slow down", ("Retry-After", retryAfter)), Reply.Ok());

        var trial = await PlayOne(server);

        Assert.Equal("rate_limited", trial.Error!.Kind);
        Assert.Equal(1, server.Requests);
        Assert.Contains("the server asked to wait", trial.Error.Message);
        Assert.Contains("left of the call timeout of 600 s", trial.Error.Message);
    }

    [Fact]
    public async Task Every_retry_records_its_reason_in_the_trial()
    {
        using var server = new ScriptedServer(
            Reply.Error(429, "rate_limit_exceeded", "Rate limit reached", ("Retry-After", "7")),
            Reply.Error(503, "overloaded", "The engine is overloaded"),
            Reply.Ok());

        var trial = await PlayOne(server);

        Assert.Null(trial.Error);
        var decision = trial.Transcript!.Steps[0].Decision;
        Assert.Equal(2, decision.Retries);
        Assert.Equal(2, decision.RetryReasons.Length);
        Assert.Contains("rate_limited", decision.RetryReasons[0]);
        Assert.Contains("retried after 7 s", decision.RetryReasons[0]);
        Assert.Contains("server_error", decision.RetryReasons[1]);
        var step = System.Text.Json.Nodes.JsonNode.Parse(Line(trial))!["steps"]![0]!;
        Assert.Equal(2, step["retry_reasons"]!.AsArray().Count);
    }

    // --- 12: memory -----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task An_answer_over_the_response_cap_is_a_bad_response_and_a_smaller_one_passes()
    {
        var big = "ACTION: do(A = 5) " + new string('x', 3000);
        using var server = new ScriptedServer(Reply.Ok(big));
        var policy = Policy with { MaxResponseBytes = 2048 };

        var refused = await PlayOne(server, policy);
        var accepted = await PlayOne(server, policy with { MaxResponseBytes = 8192 });

        Assert.Equal("bad_response", refused.Error!.Kind);
        Assert.Contains("2,048 bytes", refused.Error.Message);
        Assert.Equal(2, server.Requests); // the refused call was not retried (it would get the same answer again)
        Assert.Null(accepted.Error);
        Assert.Equal(big, accepted.Transcript!.Steps[0].Decision.RawAnswer);
    }

    [Fact]
    public async Task The_default_cap_refuses_a_10_MB_answer()
    {
        using var server = new ScriptedServer(Reply.Ok("ACTION: do(A = 5) " + new string('y', 10 << 20)));

        var trial = await PlayOne(server);

        Assert.Equal("bad_response", trial.Error!.Kind);
        Assert.Contains("1,048,576 bytes", trial.Error.Message);
    }

    [Fact]
    public async Task A_body_that_never_ends_is_cut_off_at_the_cap_while_it_streams()
    {
        using var server = new EndlessServer();
        var policy = Policy with { MaxResponseBytes = 64 * 1024 };

        var trial = Assert.Single(await Pipeline.RunAsync(new FakeClock(), policy, [$"openai-compatible/m@{server.BaseUrl}"]));

        Assert.Equal("bad_response", trial.Error!.Kind);
        Assert.Contains("65,536 bytes", trial.Error.Message);
        // The client stopped reading soon after the cap: the socket buffers hold a few MB at most, never the endless rest.
        Assert.InRange(server.BytesSent, 64 * 1024, 64L << 20);
    }

    // --- 25: a 200 with nothing to read ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("""{"error": {"message": "The server had an error while processing your request", "type": "server_error"}}""")]
    [InlineData("""{"id": "c", "object": "chat.completion", "created": 1700000000, "model": "m", "choices": []}""")]
    public async Task A_200_with_an_error_body_or_no_choices_is_a_bad_response_and_retried(string body)
    {
        using var server = new ScriptedServer(new Reply(200, body), Reply.Ok());

        var recovered = await PlayOne(server);
        using var failing = new ScriptedServer(new Reply(200, body));
        var failed = await PlayOne(failing);

        Assert.Null(recovered.Error);
        Assert.Equal(2, server.Requests);
        Assert.True("bad_response" == failed.Error!.Kind, failed.Error.Message);
        Assert.Equal(1 + Policy.Resilience.Retries, failing.Requests);
    }

    // --- 27: redirects ------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Ollama_does_not_follow_a_redirect_to_another_address()
    {
        using var elsewhere = FakeProvider.Ollama((_, _) => "ACTION: do(A = 5)");
        using var redirecting = WireMock.Server.WireMockServer.Start();
        redirecting.Given(Request.Create().WithPath("/api/chat").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(307).WithHeader("Location", elsewhere.Url + "/api/chat"));

        var trials = await Trials.RunAsync(new Dictionary<string, string> { ["OLLAMA_HOST"] = redirecting.Url! }, "ollama/m", "passive-exploit-interventional");

        Assert.Empty(elsewhere.Bills);
        var error = Assert.Single(trials)["error"]!;
        Assert.Equal("bad_request", error["kind"]!.GetValue<string>());
        Assert.Contains("redirect", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenAI_compatible_does_not_follow_a_redirect_either()
    {
        using var elsewhere = new ScriptedServer(Reply.Ok());
        using var redirecting = new ScriptedServer(new Reply(302, "", [("Location", elsewhere.BaseUrl + "/chat/completions")]));

        var trial = await PlayOne(redirecting);

        Assert.Equal(0, elsewhere.Requests);
        Assert.Equal("bad_request", trial.Error!.Kind);
        Assert.Contains("redirect", trial.Error.Message);
    }
}
