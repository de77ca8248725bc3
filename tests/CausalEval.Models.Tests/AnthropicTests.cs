using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using CausalEval.Core;
using Microsoft.Extensions.AI;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;
using CausalEval.Core.Results;

namespace CausalEval.Models.Tests;

/// <summary>
/// A WireMock.Net server on loopback speaking the Anthropic Messages API (POST /v1/messages): the n-th call gets the reply
/// the script gives for it and the request it was sent. Bodies are the API's: a <c>message</c> object with content blocks,
/// <c>stop_reason</c> and usage with the prompt-cache counts, or an <c>error</c> object.
/// </summary>
internal sealed class AnthropicServer : IDisposable
{
    private readonly List<JsonObject> _requests = [];

    public AnthropicServer(Func<int, JsonObject, Reply> script)
    {
        Server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });
        Server.Given(Request.Create().WithPath("/v1/messages").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = JsonNode.Parse(request.Body!)!.AsObject();
            int n;
            lock (_requests)
            {
                n = _requests.Count;
                _requests.Add(body);
            }
            var reply = script(n, body);
            var headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") };
            foreach (var (name, value) in reply.Headers ?? [])
            {
                headers[name] = new(value);
            }
            return new ResponseMessage
            {
                StatusCode = reply.Status,
                Headers = headers,
                BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = reply.Body, Encoding = System.Text.Encoding.UTF8 },
            };
        }));
    }

    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    public IReadOnlyList<JsonObject> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static Reply Message(string answer, string stopReason = "end_turn", int input = 120, int output = 9, int cacheWrite = 0, int cacheRead = 0) =>
        new(200, JsonSerializer.Serialize(new
        {
            id = "msg_fake",
            type = "message",
            role = "assistant",
            model = "claude-test",
            content = new[] { new { type = "text", text = answer } },
            stop_reason = stopReason,
            stop_sequence = (string?)null,
            usage = new { input_tokens = input, output_tokens = output, cache_creation_input_tokens = cacheWrite, cache_read_input_tokens = cacheRead },
        }));

    public static Reply Error(int status, string type, string message, params (string Name, string Value)[] headers) =>
        new(status, JsonSerializer.Serialize(new { type = "error", error = new { type, message } }), headers);

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Server.Stop();
}

/// <summary>
/// <c>anthropic/…</c> through the official Anthropic SDK against a fake Messages API: the request's shape (top-level
/// <c>system</c>, <c>max_tokens</c> always, no sampling settings the API lacks), usage with prompt-cache tokens, and errors
/// classified and retried through the production pipeline on a fake clock.
/// </summary>
public class AnthropicTests
{
    private const string Key = "sk-ant-test-key-0123456789abcdef";

    private static Dictionary<string, string> Environment(AnthropicServer server) =>
        new() { [ChatProviders.AnthropicKey] = Key, [ChatProviders.AnthropicBaseUrl] = server.Url };

    /// <summary>explore-exploit test-0000: five experiments, the exploit, the edges (as in <see cref="ProviderWireTests"/>).</summary>
    private static string Script(int turn) => turn switch
    {
        < 5 => $"ACTION: do({(char)('A' + turn)} = 5)",
        5 => "ACTION: do(C = -5)",
        _ => "EDGES: B->A, A->E",
    };

    private static int Turn(JsonObject request) => request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");

    [Fact]
    public async Task A_full_episode_sends_system_top_level_and_max_tokens_and_usage_counts_prompt_cache_tokens()
    {
        // Each call bills 100 fresh input tokens, writes 10 to the prompt cache and reads 40 from it (after the first).
        using var server = new AnthropicServer((n, request) =>
            AnthropicServer.Message(Script(Turn(request)), input: 100 + n, output: 5 + n, cacheWrite: 10, cacheRead: n == 0 ? 0 : 40));

        var trials = await Trials.RunAsync(Environment(server), "anthropic/claude-test?max_tokens=300", "explore-exploit");

        var trial = Assert.Single(trials);
        Assert.True(trial["error"] is null, trial["error"]?.ToJsonString());
        Assert.Equal(7, trial["steps"]!.AsArray().Count);
        var requests = server.Requests;
        Assert.Equal(7, requests.Count);
        foreach (var request in requests)
        {
            Assert.Equal("claude-test", request["model"]!.GetValue<string>());
            Assert.Equal(300, request["max_tokens"]!.GetValue<int>());
            Assert.False(request["messages"]!.AsArray().Any(m => m!["role"]!.GetValue<string>() == "system"), "no message has role system");
            Assert.Contains("causal", request["system"]!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
            Assert.Null(request["temperature"]);
            Assert.Null(request["seed"]);
        }
        // Input tokens are everything the prompt held: fresh, written to and read from the prompt cache.
        var expectedInput = Enumerable.Range(0, 7).Sum(n => 100 + n + 10 + (n == 0 ? 0 : 40));
        Assert.Equal(expectedInput, trial["usage"]!["input_tokens"]!.GetValue<long>());
        Assert.Equal(Enumerable.Range(0, 7).Sum(n => 5 + n), trial["usage"]!["output_tokens"]!.GetValue<long>());
        var entry = server.Server.LogEntries.First().RequestMessage;
        Assert.True(entry.Headers!.ContainsKey("anthropic-version"), "the API version header is sent");
        Assert.Contains(entry.Headers!, h => h.Value.Any(v => v.Contains(Key, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_max_tokens_in_the_id_or_the_template_max_tokens_is_still_sent()
    {
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("ACTION: do(A = 5)"));
        using var client = ChatProviders.CreateClient(new ProviderEnvironment(Environment(server).GetValueOrDefault), "anthropic/claude-test");

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "rules"), new ChatMessage(ChatRole.User, "go")]);

        Assert.Equal("ACTION: do(A = 5)", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var request = Assert.Single(server.Requests);
        Assert.Equal(ChatProviders.AnthropicMaxTokens, request["max_tokens"]!.GetValue<int>());
        Assert.Equal("rules", request["system"]!.AsArray().Single()!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("max_tokens", "length")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("end_turn", "stop")]
    public async Task Stop_reasons_map_to_finish_reasons(string stopReason, string finish)
    {
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("ACTION: do(A", stopReason));
        using var client = ChatProviders.CreateClient(new ProviderEnvironment(Environment(server).GetValueOrDefault), "anthropic/claude-test");

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "go")]);

        Assert.Equal(new ChatFinishReason(finish), response.FinishReason);
    }

    [Fact]
    public async Task A_refusal_is_classified_as_content_filter_and_not_retried()
    {
        var clock = new FakeClock();
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("I can't help with that.", "refusal"));

        var error = await Assert.ThrowsAsync<ModelCallException>(() => Call(clock, server));

        Assert.Equal(ErrorKinds.ContentFilter, error.Kind);
        Assert.Single(server.Requests);
    }

    [Theory]
    [InlineData(529, "overloaded_error", ErrorKinds.ServerError)]
    [InlineData(429, "rate_limit_error", ErrorKinds.RateLimited)]
    public async Task Overloaded_and_rate_limited_answers_are_retried_after_the_retry_after_wait(int status, string type, string kind)
    {
        var clock = new FakeClock();
        using var server = new AnthropicServer((n, _) => n == 0
            ? AnthropicServer.Error(status, type, "try later", ("retry-after", "7"))
            : AnthropicServer.Message("ACTION: do(A = 5)"));

        var response = await Call(clock, server);

        Assert.Equal("ACTION: do(A = 5)", response.Text);
        Assert.Equal(2, server.Requests.Count);
        var arrivals = server.Server.LogEntries.Select(e => e.RequestMessage.DateTime).Order().Select(clock.FakeTimeAt).ToList();
        // Never sooner than the 7 s asked for (less a 250 ms tick of the fake clock; the back-off alone would be about 1 s).
        // No tight upper bound: on a loaded machine the fake clock runs on while the retry is being sent.
        Assert.InRange((arrivals[1] - arrivals[0]).TotalSeconds, 6.75, 60);
        var classified = AnthropicErrors.Classify(status, type, "m", TimeSpan.FromSeconds(7));
        Assert.Equal(kind, classified.Kind);
        Assert.True(classified.Retryable);
    }

    [Fact]
    public async Task A_401_is_auth_not_retried_and_the_key_echoed_by_the_server_is_redacted()
    {
        var clock = new FakeClock();
        using var server = new AnthropicServer((_, _) => AnthropicServer.Error(401, "authentication_error", $"invalid x-api-key {Key}"));

        var error = await Assert.ThrowsAsync<ModelCallException>(() => Call(clock, server));

        Assert.Equal(ErrorKinds.Auth, error.Kind);
        Assert.False(error.Retryable);
        Assert.Single(server.Requests);
        Assert.DoesNotContain(Key, error.Message, StringComparison.Ordinal);
        Assert.Contains("authentication_error", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "invalid_request_error", ErrorKinds.BadRequest)]
    [InlineData(403, "permission_error", ErrorKinds.Auth)]
    [InlineData(404, "not_found_error", ErrorKinds.NotFound)]
    [InlineData(402, "billing_error", ErrorKinds.Quota)]
    [InlineData(413, "request_too_large", ErrorKinds.BadRequest)]
    [InlineData(500, "api_error", ErrorKinds.ServerError)]
    [InlineData(504, "timeout_error", ErrorKinds.Timeout)]
    public void Error_types_are_classified(int status, string type, string kind)
    {
        var error = AnthropicErrors.Classify(status, type, "m", null);

        Assert.Equal(kind, error.Kind);
        Assert.Equal(status >= 500, error.Retryable);
    }

    [Theory]
    [InlineData("anthropic/claude-test?temperature=0.5", "temperature")]
    [InlineData("anthropic/claude-test?seed=3", "seed")]
    public void A_setting_the_Messages_API_lacks_is_bad_input(string model, string setting)
    {
        var environment = new ProviderEnvironment(new Dictionary<string, string> { [ChatProviders.AnthropicKey] = Key }.GetValueOrDefault);

        var error = Assert.Throws<InputException>(() => ChatProviders.CreateClient(environment, model));

        Assert.Contains(setting, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_key_the_model_is_bad_input_naming_the_variable()
    {
        var error = Assert.Throws<InputException>(() => ChatProviders.CreateClient(new ProviderEnvironment(_ => null), "anthropic/claude-test"));

        Assert.Contains(ChatProviders.AnthropicKey, error.Problem, StringComparison.Ordinal);
    }

    /// <summary>
    /// One call through the SDK on the real clock, once per test process: the first call's JIT takes long enough in real
    /// time for the free-running fake clock to time the attempt out (and retry a 401).
    /// </summary>
    private static readonly Lazy<Task> WarmUp = new(async () =>
    {
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("ok"));
        using var calls = new ModelCalls(new CallPolicy { Cache = new CacheSettings(Enabled: false) }, TimeProvider.System);
        using var client = ChatProviders.CreateClient(new ProviderEnvironment(Environment(server).GetValueOrDefault), "anthropic/claude-test", calls.Configure);
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "go")]);
    });

    /// <summary>One call through the production pipeline (resilience on the fake clock, no cache).</summary>
    private static async Task<ChatResponse> Call(FakeClock clock, AnthropicServer server)
    {
        await WarmUp.Value;
        var policy = new CallPolicy
        {
            Cache = new CacheSettings(Enabled: false),
            Resilience = new ResilienceSettings { Retries = 3, AttemptTimeout = TimeSpan.FromSeconds(60), CallTimeout = TimeSpan.FromMinutes(5) },
        };
        using var calls = new ModelCalls(policy, clock);
        using var client = ChatProviders.CreateClient(new ProviderEnvironment(Environment(server).GetValueOrDefault), "anthropic/claude-test",
            calls.Configure, clock);
        var call = client.GetResponseAsync([new ChatMessage(ChatRole.User, "go")]);
        await clock.DriveAsync(call, TimeSpan.FromMilliseconds(250));
        return await call;
    }
}
