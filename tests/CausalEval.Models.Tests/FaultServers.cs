using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CausalEval.Runs;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using Microsoft.Extensions.Time.Testing;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;
using CausalEval.Core.Results;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

/// <summary>One scripted answer: a status, headers and body, or a fault; optionally after a delay.</summary>
internal sealed record Reply(int Status = 200, string Body = "", (string Name, string Value)[]? Headers = null, FaultType? Fault = null, TimeSpan Delay = default)
{
    public static Reply Ok(string answer = "ACTION: do(A = 5)") => new(200, ScriptedServer.Completion(answer));

    public static Reply Error(int status, string code, string message, params (string Name, string Value)[] headers) =>
        new(status, JsonSerializer.Serialize(new { error = new { message, type = code, code } }), headers);
}

/// <summary>
/// A WireMock.Net server on loopback speaking OpenAI chat completions that answers the n-th call with the n-th reply of
/// a script (the last one repeats): faults, refusals, then maybe an answer. It counts the requests as they arrive.
/// </summary>
internal sealed class ScriptedServer : IDisposable
{
    private readonly Reply[] _script;
    private readonly CancellationTokenSource _stop = new();
    private int _arrived;
    private int _inFlight;

    public ScriptedServer(params Reply[] script)
    {
        _script = script;
        Server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });
        Server.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithCallback(async _ =>
            {
                Interlocked.Increment(ref _inFlight);
                try
                {
                    return await Answer();
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }));
    }

    private async Task<IResponseMessage> Answer()
    {
        var n = Interlocked.Increment(ref _arrived) - 1;
        var reply = _script[Math.Min(n, _script.Length - 1)];
        if (reply.Delay > TimeSpan.Zero)
        {
            // Cut short when the test is over, so that a server holding a request for minutes never holds up its disposal.
            await Task.Delay(reply.Delay, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        var headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") };
        foreach (var (name, value) in reply.Headers ?? [])
        {
            headers[name] = new(value);
        }
        return (IResponseMessage)new ResponseMessage
        {
            StatusCode = reply.Status,
            Headers = headers,
            BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = reply.Body, Encoding = System.Text.Encoding.UTF8 },
            FaultType = reply.Fault ?? FaultType.NONE,
        };
    }

    public WireMockServer Server { get; }

    public string BaseUrl => Server.Url + "/v1";

    /// <summary>Requests the server is answering right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests that have arrived (answered or not).</summary>
    public int Requests => Volatile.Read(ref _arrived);

    /// <summary>When each request arrived, on the fake clock (as precise as the clock's tick).</summary>
    public IReadOnlyList<DateTimeOffset> Arrivals(FakeClock clock) =>
        [.. Server.LogEntries.Select(e => e.RequestMessage.DateTime).Order().Select(clock.FakeTimeAt)];

    public static string Completion(string answer, string finishReason = "stop", int input = 120, int output = 9) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-fake",
        @object = "chat.completion",
        created = 1_700_000_000,
        model = "m",
        choices = new[] { new { index = 0, message = new { role = "assistant", content = answer }, finish_reason = finishReason } },
        usage = new { prompt_tokens = input, completion_tokens = output, total_tokens = input + output },
    });

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _stop.Cancel();
        Server.Stop();
    }
}

/// <summary>Keeps the finished trials in memory.</summary>
internal sealed class MemoryStore : IResultStore
{
    public List<TrialRecord> Records { get; } = [];

    public ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
    {
        lock (Records)
        {
            Records.Add(record);
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Chat models through the production pipeline (cache, resilience, limits) on a fake clock.</summary>
internal static class Pipeline
{
    public const string CompatibleKey = "sk-fault-test-key-0123456789abcdef";

    /// <summary>
    /// One call through the whole pipeline on the real clock, once per test process: the first call's JIT and connection
    /// set-up take long enough in real time for a free-running fake clock to time it out.
    /// </summary>
    private static readonly Lazy<Task> WarmUp = new(async () =>
    {
        using var server = new ScriptedServer(Reply.Ok());
        var policy = new CallPolicy { Cache = new CacheSettings(Enabled: false) };
        using var calls = new ModelCalls(policy, TimeProvider.System);
        var task = Repo.Tasks.Load("passive-exploit-interventional");
        var model = $"openai-compatible/m@{server.BaseUrl}";
        var plan = new RunPlan
        {
            Tasks = [task], Models = [model], PromptModels = new HashSet<string> { model }, PromptVariants = ["zero-shot"], Naming = "letters",
            Concurrency = 1, Episodes = 1,
        };
        await new Runner(Catalog(calls, TimeProvider.System), TimeProvider.System, policy.Prices)
            .RunAsync(plan, [new TaskEpisodes(task, [.. Repo.Tasks.LoadTestSplit(task.Id, 1)])], new MemoryStore(), new Leaderboard());
    });

    /// <param name="environment">The provider variables; default: only the openai-compatible key, <paramref name="key"/>.</param>
    public static ModelCatalog Catalog(ModelCalls calls, TimeProvider time, string key = CompatibleKey, IReadOnlyDictionary<string, string>? environment = null) =>
        new([new BuiltinModelProvider(), .. ChatModels.Providers(
            new ProviderEnvironment(environment is null ? name => name == ChatProviders.CompatibleKey ? key : null : environment.GetValueOrDefault,
                calls.Policy.MaxResponseBytes), () => Repo.Setup, calls.Configure, time)]);

    /// <summary>
    /// Plays <paramref name="episodes"/> single-call trials (passive-exploit-interventional, zero-shot) of each model through
    /// the runner while the fake clock runs: it jumps <paramref name="tick"/> every millisecond of real time, so that
    /// minutes of backoff and timeouts pass in a fraction of a second.
    /// </summary>
    public static async Task<List<TrialRecord>> RunAsync(FakeClock clock, CallPolicy policy, IReadOnlyList<string> models, int episodes = 1,
        TimeSpan? tick = null, int concurrency = 1, string key = CompatibleKey, Func<bool>? hold = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        await WarmUp.Value;
        using var calls = new ModelCalls(policy, clock);
        var task = Repo.Tasks.Load("passive-exploit-interventional");
        var plan = new RunPlan
        {
            Tasks = [task],
            Models = models,
            PromptModels = models.ToHashSet(),
            PromptVariants = ["zero-shot"],
            Naming = "letters",
            Concurrency = concurrency,
            Episodes = episodes,
        };
        var store = new MemoryStore();
        var running = new Runner(Catalog(calls, clock, key, environment), TimeProvider.System, policy.Prices)
            .RunAsync(plan, [new TaskEpisodes(task, [.. Repo.Tasks.LoadTestSplit(task.Id, episodes)])], store, new Leaderboard());
        await clock.DriveAsync(running, tick ?? TimeSpan.FromMilliseconds(250), hold);
        return store.Records;
    }
}

/// <summary>
/// A fake clock (Microsoft.Extensions.TimeProvider.Testing) that tests move forward while real work runs, remembering
/// which fake time it showed at which real time.
/// </summary>
internal sealed class FakeClock : FakeTimeProvider
{
    private readonly List<(DateTime Real, DateTimeOffset Fake)> _timeline = [];

    public FakeClock() : base(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
        _timeline.Add((DateTime.UtcNow, GetUtcNow()));
    }

    /// <summary>
    /// Moves <paramref name="tick"/> per millisecond of real time, one tick at a time, until <paramref name="work"/> is done
    /// (at most 60 s of real time: a loaded machine runs the loop slowly). A loaded machine slows the fake clock with
    /// everything else, so a slow call does not look slower in fake time. While <paramref name="hold"/> says so, the
    /// clock stands still.
    /// </summary>
    public async Task DriveAsync(Task work, TimeSpan tick, Func<bool>? hold = null)
    {
        var limit = DateTime.UtcNow.AddSeconds(60);
        var last = global::System.Diagnostics.Stopwatch.GetTimestamp();
        var owed = 0.0; // real milliseconds not yet turned into fake time
        while (!work.IsCompleted)
        {
            if (DateTime.UtcNow > limit)
            {
                throw new TimeoutException("the work did not finish within 60 s of real time");
            }
            var now = global::System.Diagnostics.Stopwatch.GetTimestamp();
            owed = Math.Min(owed + global::System.Diagnostics.Stopwatch.GetElapsedTime(last, now).TotalMilliseconds, 1);
            last = now;
            if (owed >= 1 && hold?.Invoke() != true)
            {
                Advance(tick);
                owed = 0;
            }
            lock (_timeline)
            {
                _timeline.Add((DateTime.UtcNow, GetUtcNow()));
            }
            await Task.WhenAny(work, Task.Delay(1));
        }
        await work;
    }

    /// <summary>The fake time the clock showed at a real moment.</summary>
    public DateTimeOffset FakeTimeAt(DateTime real)
    {
        lock (_timeline)
        {
            var fake = _timeline[0].Fake;
            foreach (var (r, f) in _timeline)
            {
                if (r > real.ToUniversalTime())
                {
                    break;
                }
                fake = f;
            }
            return fake;
        }
    }
}

/// <summary>
/// A raw TCP server on loopback that resets (RST, via a zero linger) the first <c>resets</c> connections once the request
/// has arrived, as a crashed proxy or a dropped connection does, and answers later ones with a chat completion.
/// </summary>
internal sealed class ResettingServer(int resets) : RawLoopbackServer
{
    protected override async Task ServeAsync(Socket socket, int index)
    {
        var buffer = new byte[64 * 1024];
        var received = new System.Text.StringBuilder();
        // Read the headers and the body (Content-Length) so that the whole request has been sent.
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                return;
            }
            received.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, n));
            var text = received.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var length = System.Text.RegularExpressions.Regex.Match(text, @"(?i)content-length:\s*(\d+)") is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
                if (System.Text.Encoding.UTF8.GetByteCount(text) - (end + 4) >= length)
                {
                    break;
                }
            }
        }
        if (index <= resets)
        {
            socket.LingerState = new LingerOption(true, 0); // close → RST: "connection reset by peer"
            socket.Close();
            return;
        }
        var body = System.Text.Encoding.UTF8.GetBytes(ScriptedServer.Completion("ACTION: do(A = 5)"));
        var head = System.Text.Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(head, SocketFlags.None);
        await socket.SendAsync(body, SocketFlags.None);
        socket.Shutdown(SocketShutdown.Both);
    }
}

/// <summary>
/// A WireMock.Net server on loopback speaking OpenAI chat completions with a fixed latency, like a real provider under
/// load: it answers explore-exploit and passive episodes by turn (as the expert would on the first variable), bills
/// fixed tokens, and records how many requests it saw and the most it had in flight at once.
/// </summary>
internal sealed class LatencyServer : IDisposable
{
    private int _requests, _inFlight, _maxInFlight;

    public LatencyServer(TimeSpan latency, string? requiredKey = null)
    {
        Server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });
        var request = Request.Create().WithPath("/v1/chat/completions").UsingPost();
        if (requiredKey is not null)
        {
            request = request.WithHeader("Authorization", $"Bearer {requiredKey}");
        }
        Server.Given(request).RespondWith(Response.Create().WithCallback(async message =>
        {
            Interlocked.Increment(ref _requests);
            var now = Interlocked.Increment(ref _inFlight);
            for (var max = Volatile.Read(ref _maxInFlight); now > max && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max; max = Volatile.Read(ref _maxInFlight))
            {
            }
            try
            {
                await Task.Delay(latency);
                var body = System.Text.Json.Nodes.JsonNode.Parse(message.Body!)!;
                var turn = body["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
                var answer = turn < 5 ? $"ACTION: do({(char)('A' + turn)} = 5)" : turn == 5 ? "ACTION: do(A = -5)" : "EDGES: A->B";
                return (IResponseMessage)new ResponseMessage
                {
                    StatusCode = 200,
                    Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
                    BodyData = new BodyData
                    {
                        DetectedBodyType = BodyType.String, Encoding = System.Text.Encoding.UTF8,
                        BodyAsString = ScriptedServer.Completion(answer, input: 1000 + 10 * turn, output: 20),
                    },
                };
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }));
    }

    public WireMockServer Server { get; }

    public string BaseUrl => Server.Url + "/v1";

    public int Requests => Volatile.Read(ref _requests);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Server.Stop();
}

/// <summary>
/// A raw HTTP server on loopback that answers every request with a 200 whose chunked body never ends (no Content-Length):
/// the start of a chat completion, then filler, for as long as the client reads. It counts the bytes it managed to send.
/// </summary>
internal sealed class EndlessServer : RawLoopbackServer
{
    private long _sent;

    public long BytesSent => Interlocked.Read(ref _sent);

    protected override async Task ServeAsync(Socket socket, int index)
    {
        try
        {
            var buffer = new byte[64 * 1024];
            await socket.ReceiveAsync(buffer, SocketFlags.None);
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"), SocketFlags.None);
            var start = System.Text.Encoding.ASCII.GetBytes("{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"");
            await SendChunk(socket, start);
            var filler = System.Text.Encoding.ASCII.GetBytes(new string('a', 16 * 1024));
            while (!Stopping.IsCancellationRequested)
            {
                await SendChunk(socket, filler);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // The client hung up: what the test wants.
        }
    }

    private async Task SendChunk(Socket socket, byte[] data)
    {
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"{data.Length:X}\r\n"), SocketFlags.None);
        await socket.SendAsync(data, SocketFlags.None);
        await socket.SendAsync("\r\n"u8.ToArray(), SocketFlags.None);
        Interlocked.Add(ref _sent, data.Length);
    }
}

/// <summary>
/// A raw TCP server on loopback for faults WireMock cannot script: it accepts connections until disposed and serves
/// each on its own task (<see cref="ServeAsync"/>, with the connection's 1-based index), closing the socket after.
/// </summary>
internal abstract class RawLoopbackServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private int _connections;

    protected RawLoopbackServer()
    {
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/v1";

    public int Connections => Volatile.Read(ref _connections);

    protected CancellationTokenSource Stopping { get; } = new();

    protected abstract Task ServeAsync(Socket socket, int index);

    private async Task AcceptAsync()
    {
        while (!Stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(Stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var index = Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    await ServeAsync(socket, index);
                }
            });
        }
    }

    public void Dispose()
    {
        Stopping.Cancel();
        _listener.Stop();
    }
}
