using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace CausalEval.Models.Tests;

/// <summary>What a fake provider billed for one call, and what it was sent.</summary>
internal sealed record Bill(long InputTokens, long OutputTokens, JsonObject Request);

/// <summary>
/// A WireMock.Net server on loopback speaking one provider's real wire format. It answers each chat call from a script
/// (by how many assistant turns the conversation already has) and bills made-up but distinct token counts, which tests
/// compare with what the trial recorded.
/// </summary>
internal sealed class FakeProvider : IDisposable
{
    private readonly Func<int, JsonObject, string> _answer;
    private readonly List<Bill> _bills = [];

    private FakeProvider(Func<int, JsonObject, string> answer)
    {
        _answer = answer;
        Server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });
    }

    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    public IReadOnlyList<Bill> Bills
    {
        get
        {
            lock (_bills)
            {
                return [.. _bills];
            }
        }
    }

    /// <summary>OpenAI chat completions: POST /v1/chat/completions with a bearer key.</summary>
    public static FakeProvider OpenAi(string key, Func<int, JsonObject, string> answer)
    {
        var fake = new FakeProvider(answer);
        fake.Server.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost().WithHeader("Authorization", $"Bearer {key}"))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(fake.ChatCompletion));
        return fake;
    }

    /// <summary>Azure OpenAI: POST /openai/deployments/{deployment}/chat/completions?api-version=… with an api-key header.</summary>
    public static FakeProvider Azure(string key, string deployment, string apiVersion, Func<int, JsonObject, string> answer)
    {
        var fake = new FakeProvider(answer);
        fake.Server.Given(Request.Create().WithPath($"/openai/deployments/{deployment}/chat/completions").UsingPost()
                .WithParam("api-version", apiVersion).WithHeader("api-key", key))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(fake.ChatCompletion));
        return fake;
    }

    /// <summary>A server that refuses every call with 401 and echoes the bearer key it was sent (as careless servers do).</summary>
    public static FakeProvider EchoingUnauthorized()
    {
        var fake = new FakeProvider((_, _) => "");
        fake.Server.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json").WithBody(request => JsonSerializer.Serialize(new
            {
                error = new { message = $"Incorrect API key provided: {request.Headers!["Authorization"].Single()}", type = "invalid_request_error", code = "invalid_api_key" },
            })));
        return fake;
    }

    /// <summary>Ollama: POST /api/chat, answered as streamed NDJSON (a chunk a line, usage on the final "done" line).</summary>
    public static FakeProvider Ollama(Func<int, JsonObject, string> answer)
    {
        var fake = new FakeProvider(answer);
        fake.Server.Given(Request.Create().WithPath("/api/chat").UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/x-ndjson").WithBody(fake.OllamaChat));
        return fake;
    }

    private (string Answer, long In, long Out, JsonObject Request) Call(IRequestMessage request)
    {
        var body = JsonNode.Parse(request.Body!)!.AsObject();
        var messages = body["messages"]!.AsArray();
        var turn = messages.Count(m => m!["role"]!.GetValue<string>() == "assistant");
        var answer = _answer(turn, body);
        lock (_bills)
        {
            // Distinct, checkable numbers: input grows with the conversation, output with the call's index.
            var bill = new Bill(100 * messages.Count + request.Body!.Length % 89, 7 + _bills.Count, body);
            _bills.Add(bill);
            return (answer, bill.InputTokens, bill.OutputTokens, body);
        }
    }

    private string ChatCompletion(IRequestMessage request)
    {
        var (answer, input, output, body) = Call(request);
        return JsonSerializer.Serialize(new
        {
            id = "chatcmpl-fake",
            @object = "chat.completion",
            created = 1_700_000_000,
            model = body["model"]?.GetValue<string>() ?? "deployment",
            choices = new[] { new { index = 0, message = new { role = "assistant", content = answer }, finish_reason = "stop" } },
            usage = new { prompt_tokens = input, completion_tokens = output, total_tokens = input + output },
        });
    }

    private string OllamaChat(IRequestMessage request)
    {
        var (answer, input, output, body) = Call(request);
        var model = body["model"]!.GetValue<string>();
        if (body["stream"] is { } stream && !stream.GetValue<bool>())
        {
            throw new InvalidOperationException("this fake serves /api/chat streamed only");
        }
        var lines = new StringBuilder();
        // The answer arrives in pieces, as a streaming server sends it.
        for (var i = 0; i < answer.Length; i += 7)
        {
            lines.Append(JsonSerializer.Serialize(new
            {
                model,
                created_at = "2025-01-01T00:00:00Z",
                message = new { role = "assistant", content = answer.Substring(i, Math.Min(7, answer.Length - i)) },
                done = false,
            })).Append('\n');
        }
        lines.Append(JsonSerializer.Serialize(new
        {
            model,
            created_at = "2025-01-01T00:00:01Z",
            message = new { role = "assistant", content = "" },
            done = true,
            done_reason = "stop",
            total_duration = 1_000_000,
            load_duration = 1000,
            prompt_eval_count = input,
            prompt_eval_duration = 1000,
            eval_count = output,
            eval_duration = 1000,
        })).Append('\n');
        return lines.ToString();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Server.Stop();
}
