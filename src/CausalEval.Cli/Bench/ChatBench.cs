using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CausalEval.Core.Agents;
using CausalEval.Models;
using CausalEval.Prompts.Agents;
using Microsoft.Extensions.AI;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Cli.Bench;

/// <summary>
/// <c>causaleval bench chat</c>: model calls per second through the production chat pipeline (OpenAI SDK client, error
/// classification, Polly resilience, call limits, the SQLite response cache) against a local OpenAI-compatible server
/// with a fixed latency, at a given concurrency, with the CPU time each call costs. By default it starts that server as
/// a child process (<c>causaleval bench chat-server</c>), so the client's CPU time is measured alone.
/// </summary>
internal static class ChatBench
{
    public static IEnumerable<Command> Create(CliConsole console)
    {
        var latency = new Option<int>("--latency-ms") { Description = "The local server's fixed latency per call", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "Calls in flight", DefaultValueFactory = _ => 64 };
        var seconds = new Option<double>("--seconds") { Description = "Measured time (after a 3 s warm-up)", DefaultValueFactory = _ => 10 };
        var url = new Option<string?>("--url") { Description = "An OpenAI-compatible base URL to call instead of starting the local server" };
        var noCache = new Option<bool>("--no-cache") { Description = "Leave the response cache out of the pipeline (default: a fresh cache in a temporary folder)" };
        var chat = new Command("chat", "Model calls per second and CPU time per call through the chat pipeline against a local fixed-latency server")
        {
            latency, concurrency, seconds, url, noCache,
        };
        chat.SetAction(async (parse, cancellationToken) =>
        {
            var width = parse.GetValue(concurrency);
            var measured = TimeSpan.FromSeconds(parse.GetValue(seconds));
            using var server = parse.GetValue(url) is null ? ServerProcess.Start(parse.GetValue(latency)) : null;
            var baseUrl = parse.GetValue(url) ?? server!.BaseUrl;
            var cacheDirectory = parse.GetValue(noCache) ? null : Path.Combine(Path.GetTempPath(), $"causaleval-bench-cache-{Guid.NewGuid():N}");
            try
            {
                var result = await MeasureAsync(baseUrl, width, measured, cacheDirectory, server, cancellationToken).ConfigureAwait(false);
                var ideal = server is null ? double.NaN : width / (parse.GetValue(latency) / 1000.0);
                var rate = result.Calls / result.Wall.TotalSeconds;
                var share = double.IsNaN(ideal) ? "" : string.Create(CultureInfo.InvariantCulture, $" ({100 * rate / ideal:0.0}% of the ideal {ideal:N0})");
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Calls:N0} calls in {result.Wall.TotalSeconds:0.0} s at concurrency {width}: {rate:N1} calls/s{share}; latency p50 {result.P50:0.0} ms, p99 {result.P99:0.0} ms; errors {result.Errors}"));
                var serverCpu = result.ServerCpu is { } s ? string.Create(CultureInfo.InvariantCulture, $"; local server CPU: {s.TotalMilliseconds * 1000 / result.Calls:N0} µs per call") : "";
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"client CPU: {result.ClientCpu.TotalMilliseconds * 1000 / result.Calls:N0} µs per call ({100 * result.ClientCpu / result.Wall / Environment.ProcessorCount:0.0}% of {Environment.ProcessorCount} cores){serverCpu}; response cache: {(cacheDirectory is null ? "off" : "on (every call a miss and an insert)")}"));
            }
            finally
            {
                if (cacheDirectory is not null && Directory.Exists(cacheDirectory))
                {
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    Directory.Delete(cacheDirectory, recursive: true);
                }
            }
            return CliApp.Ok;
        });

        var serverLatency = new Option<int>("--latency-ms") { DefaultValueFactory = _ => 100 };
        var serve = new Command("chat-server", "A local OpenAI-compatible chat server with a fixed latency (for bench chat); stops when stdin closes")
        {
            serverLatency,
        };
        serve.Hidden = true;
        serve.SetAction(async (parse, cancellationToken) =>
        {
            using var server = new FixedLatencyServer(TimeSpan.FromMilliseconds(parse.GetValue(serverLatency)));
            await console.Out.WriteLineAsync(server.BaseUrl).ConfigureAwait(false);
            await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            // Until the parent closes our stdin (or goes away).
            await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            return CliApp.Ok;
        });
        return [chat, serve];
    }

    private sealed record Result(long Calls, TimeSpan Wall, TimeSpan ClientCpu, TimeSpan? ServerCpu, double P50, double P99, long Errors);

    private static async Task<Result> MeasureAsync(string baseUrl, int width, TimeSpan measured, string? cacheDirectory, ServerProcess? server,
        CancellationToken cancellationToken)
    {
        var policy = new CallPolicy { Cache = new CacheSettings(cacheDirectory is not null, cacheDirectory) };
        using var calls = new ModelCalls(policy, TimeProvider.System);
        // The model's pipeline exactly as a run builds it.
        var client = ChatProviders.CreateClient(new ProviderEnvironment(_ => null), $"openai-compatible/bench@{baseUrl}", calls.Configure);

        // A prompt the size of a passive zero-shot one (about 1,500 characters).
        var prompt = string.Concat(Enumerable.Repeat("Experiment: do(A = 5) gave A = 5.00, B = -4.98, C = 0.07, D = 5.02, E = -0.11.\n", 18));
        var phase = 0; // 0 warm-up, 1 measuring, 2 done
        long completed = 0, errors = 0, sequence = 0;
        var latencies = new List<double>(100_000);
        var workers = Enumerable.Range(0, width).Select(_ => Task.Run(async () =>
        {
            var mine = new List<double>();
            while (Volatile.Read(ref phase) < 2 && !cancellationToken.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sequence);
                var options = new ChatOptions
                {
                    Temperature = 0, MaxOutputTokens = 64, Seed = n,
                    AdditionalProperties = new() { [ChatCall.OptionsKey] = new ChatCall($"bench-{n}", 1, 0) },
                };
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await client.GetResponseAsync([new ChatMessage(ChatRole.System, "Answer with one ACTION line."), new ChatMessage(ChatRole.User, prompt)],
                        options, cancellationToken).ConfigureAwait(false);
                    if (Volatile.Read(ref phase) == 1)
                    {
                        Interlocked.Increment(ref completed);
                        mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    }
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            lock (latencies)
            {
                latencies.AddRange(mine);
            }
        }, CancellationToken.None)).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpuBefore = self.TotalProcessorTime;
        var serverBefore = server?.Cpu();
        var watch = Stopwatch.StartNew();
        Volatile.Write(ref phase, 1);
        await Task.Delay(measured, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref phase, 2);
        var wall = watch.Elapsed;
        self.Refresh();
        var cpu = self.TotalProcessorTime - cpuBefore;
        var serverCpu = server?.Cpu() - serverBefore;
        var done = Interlocked.Read(ref completed);
        await Task.WhenAll(workers).ConfigureAwait(false);
        latencies.Sort();
        double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[(int)Math.Min(latencies.Count - 1, p * latencies.Count)];
        return new Result(done, wall, cpu, serverCpu, Percentile(0.5), Percentile(0.99), Interlocked.Read(ref errors));
    }

    /// <summary>The local server as a child process (<c>causaleval bench chat-server</c>), so its CPU time is counted apart.</summary>
    internal sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, string baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }

        public static ServerProcess Start(int latencyMs)
        {
            var self = Environment.ProcessPath!;
            var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            // A profiler started with the bench (dotnet-trace collect -- causaleval bench …) must not hold the server at start-up too.
            start.Environment.Remove("DOTNET_DiagnosticPorts");
            // The stand-in provider should cost the shared cores as little as it can: idle thread-pool workers that spin
            // (sched_yield) before they sleep were most of its CPU (220 µs per call instead of 90).
            start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(ChatBench).Assembly.Location);
            }
            foreach (var arg in new[] { "bench", "chat-server", "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(arg);
            }
            var process = Process.Start(start)!;
            var url = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the local chat server did not start");
            return new ServerProcess(process, url.Trim());
        }

        public TimeSpan Cpu()
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
            }
            _process.Dispose();
        }
    }
}

/// <summary>
/// A small HTTP/1.1 server on loopback (raw sockets, keep-alive) that answers every <c>POST …/chat/completions</c> with
/// the same OpenAI chat completion after a fixed delay: a stand-in for a provider, cheap enough not to be the bottleneck.
/// </summary>
internal sealed class FixedLatencyServer : IDisposable
{
    private static readonly byte[] Response = Build();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _latency;

    public FixedLatencyServer(TimeSpan latency)
    {
        _latency = latency;
        _listener.Start(1024);
        _ = Task.Run(AcceptAsync);
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/v1";

    private static byte[] Build()
    {
        var body = """{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"ACTION: do(A = 5)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":400,"completion_tokens":8,"total_tokens":408}}""";
        var bytes = Encoding.UTF8.GetBytes(body);
        return [.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n"), .. bytes];
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[1 << 16];
            var filled = 0;
            try
            {
                while (true)
                {
                    // One request: headers up to the blank line, then Content-Length bytes of body.
                    int headerEnd;
                    while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                    {
                        if (filled == buffer.Length)
                        {
                            Array.Resize(ref buffer, buffer.Length * 2);
                        }
                        var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }
                        filled += n;
                    }
                    var total = headerEnd + 4 + ContentLength(buffer.AsSpan(0, headerEnd));
                    while (filled < total)
                    {
                        if (total > buffer.Length)
                        {
                            Array.Resize(ref buffer, Math.Max(total, buffer.Length * 2));
                        }
                        var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }
                        filled += n;
                    }
                    Buffer.BlockCopy(buffer, total, buffer, 0, filled - total);
                    filled -= total;
                    await Task.Delay(_latency, _stop.Token).ConfigureAwait(false);
                    await socket.SendAsync(Response, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private static int ContentLength(ReadOnlySpan<byte> headers)
    {
        var text = Encoding.ASCII.GetString(headers);
        foreach (var line in text.Split("\r\n"))
        {
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
