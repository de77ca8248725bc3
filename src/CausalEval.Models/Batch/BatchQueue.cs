using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Agents;

namespace CausalEval.Models.Batch;

/// <summary>A parked request's answer: the HTTP status and body its line in the batch's output or error file holds.</summary>
internal sealed record BatchAnswer(int Status, byte[] Body)
{
    /// <summary>An answer made here, as the provider words an error (so the pipeline classifies it like a live call's).</summary>
    public static BatchAnswer Error(int status, string code, string message)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", "batch_error");
            writer.WriteString("code", code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return new BatchAnswer(status, buffer.ToArray());
    }
}

/// <summary>
/// One batched model's rounds. Each chat request of a live trial is parked under a deterministic <c>custom_id</c> (trial id,
/// epoch, turn and the attempt's number); when every live trial is parked (and every expected trial has started), the
/// parked requests become one round: requests an earlier attempt already submitted (same id, same body, found in the
/// run folder's state) are collected from their batch, the rest are written as JSONL files within the provider's
/// limits, uploaded, and created as batches — each step persisted before the next — then polled with back-off until
/// they end; each parked request is answered with its line of the output or error file.
/// </summary>
internal sealed class BatchQueue(string model, Func<BatchState> state, BatchSettings settings, TimeProvider time, CancellationToken stopped)
{
    private readonly object _gate = new();
    private readonly List<Parked> _parked = [];
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private long _expected;
    private long _started;
    private int _live;
    private int _batchesCreated;
    private int _batchesResumed;
    private int _rounds;

    public Lazy<IBatchService>? Service { get; set; }

    public int BatchesCreated => Volatile.Read(ref _batchesCreated);

    public int BatchesResumed => Volatile.Read(ref _batchesResumed);

    public int Rounds => Volatile.Read(ref _rounds);

    public void Expect(long trials) => Update(() => _expected = trials);

    public void StopExpecting() => Update(() => _expected = 0);

    public void TrialStarted() => Update(() =>
    {
        _started++;
        _live++;
    });

    public void TrialEnded() => Update(() => _live--);

    /// <summary>Parks one request until its round's batch has answered it.</summary>
    public async Task<BatchAnswer> ParkAsync(ChatCall call, byte[] body, CancellationToken cancellationToken)
    {
        Parked parked;
        lock (_gate)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{call.TrialId}-e{call.Epoch}-t{call.Turn}");
            var attempt = _attempts.GetValueOrDefault(key);
            _attempts[key] = attempt + 1;
            parked = new Parked(string.Create(CultureInfo.InvariantCulture, $"{key}-a{attempt}"), body, BatchState.Hash(body));
            _parked.Add(parked);
        }
        using var registration = cancellationToken.Register(() =>
        {
            // Not yet in a round: it leaves the queue. In a round: the batch goes on; only this caller stops waiting.
            Update(() => _parked.Remove(parked));
            parked.Answer.TrySetCanceled(cancellationToken);
        });
        Update(() => { });
        return await parked.Answer.Task.ConfigureAwait(false);
    }

    private void Update(Action change)
    {
        List<Parked>? round = null;
        lock (_gate)
        {
            change();
            if (_parked.Count > 0 && _parked.Count >= _live && _started >= _expected)
            {
                round = [.. _parked];
                _parked.Clear();
            }
        }
        if (round is not null)
        {
            _ = Task.Run(() => PlayRoundAsync(round), CancellationToken.None);
        }
    }

    private async Task PlayRoundAsync(List<Parked> round)
    {
        Interlocked.Increment(ref _rounds);
        var batchOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var answers = new Dictionary<string, BatchAnswer>(StringComparer.Ordinal);
        var ended = new Dictionary<string, BatchJob>(StringComparer.Ordinal);
        try
        {
            var service = (Service ?? throw new InvalidOperationException($"no batch service for {model}")).Value;
            var store = state();
            var fresh = new List<Parked>();
            var uploadedOnly = new Dictionary<string, List<Parked>>(StringComparer.Ordinal);
            foreach (var request in round)
            {
                switch (store.Find(request.CustomId, request.Hash))
                {
                    case { BatchId: { } batchId }:
                        batchOf[request.CustomId] = batchId;
                        break;
                    case { FileId: var fileId }:
                        (uploadedOnly.TryGetValue(fileId, out var list) ? list : uploadedOnly[fileId] = []).Add(request);
                        break;
                    default:
                        fresh.Add(request);
                        break;
                }
            }
            Interlocked.Add(ref _batchesResumed, batchOf.Values.Distinct(StringComparer.Ordinal).Count());
            // A file uploaded by an earlier attempt with no batch recorded: its batch is looked up first (the process may
            // have died between the provider creating it and the state line), else created now; never uploaded again.
            foreach (var (fileId, requests) in uploadedOnly)
            {
                var job = await FindAsync(service, store, fileId).ConfigureAwait(false) ?? await CreateAsync(service, store, fileId).ConfigureAwait(false);
                requests.ForEach(r => batchOf[r.CustomId] = job.Id);
            }
            var part = 0;
            foreach (var (lines, requests) in Files(fresh, service.ChatEndpoint))
            {
                var fileId = await service.UploadAsync(string.Create(CultureInfo.InvariantCulture, $"causaleval-round-{Rounds}-{++part}.jsonl"),
                    lines, stopped).ConfigureAwait(false);
                store.Uploaded(model, fileId, [.. requests.Select(r => (r.CustomId, r.Hash))]);
                var job = await CreateAsync(service, store, fileId).ConfigureAwait(false);
                requests.ForEach(r => batchOf[r.CustomId] = job.Id);
            }
            var collected = await Task.WhenAll(batchOf.Values.Distinct(StringComparer.Ordinal)
                .Select(id => CollectAsync(service, store, id))).ConfigureAwait(false);
            foreach (var (job, lines) in collected)
            {
                ended[job.Id] = job;
                foreach (var (id, answer) in lines)
                {
                    answers[id] = answer;
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var request in round)
            {
                request.Answer.TrySetException(ex is OperationCanceledException ? ex : Transport(ex));
            }
            return;
        }
        foreach (var request in round)
        {
            request.Answer.TrySetResult(answers.TryGetValue(request.CustomId, out var answer)
                ? answer
                : Unanswered(ended.GetValueOrDefault(batchOf.GetValueOrDefault(request.CustomId) ?? "")));
        }
    }

    /// <summary>A request the batch ended without answering: why, in the words a live call's failure would have.</summary>
    private static BatchAnswer Unanswered(BatchJob? job) => job?.Status switch
    {
        "failed" => BatchAnswer.Error(400, "batch_failed", $"the batch {job.Id} failed: {job.Errors ?? "no reason given"}"),
        "expired" => BatchAnswer.Error(503, "batch_expired", $"the batch {job.Id} expired before this request ran (retried in the next round)"),
        "cancelled" => BatchAnswer.Error(503, "batch_cancelled", $"the batch {job.Id} was cancelled before this request ran"),
        _ => BatchAnswer.Error(502, "batch_missing_line", $"the batch {job?.Id} ended without a line for this request"),
    };

    /// <summary>A failure of the Files or Batches API as the HTTP client of a live call would have raised it.</summary>
    private static Exception Transport(Exception ex) => ex switch
    {
        HttpRequestException => ex,
        ClientResultException { Status: > 0 } => ex,
        _ => new HttpRequestException($"the Batch API failed: {ex.Message}", ex),
    };

    private async Task<BatchJob?> FindAsync(IBatchService service, BatchState store, string fileId)
    {
        if (await service.FindByInputFileAsync(fileId, stopped).ConfigureAwait(false) is not { } job)
        {
            return null;
        }
        store.Created(model, fileId, job.Id);
        Interlocked.Increment(ref _batchesResumed);
        return job;
    }

    private async Task<BatchJob> CreateAsync(IBatchService service, BatchState store, string fileId)
    {
        var job = await service.CreateAsync(fileId, stopped).ConfigureAwait(false);
        store.Created(model, fileId, job.Id);
        Interlocked.Increment(ref _batchesCreated);
        return job;
    }

    /// <summary>The round's request lines as files within the provider's limits (requests per file, bytes per file).</summary>
    private IEnumerable<(BinaryData Lines, List<Parked> Requests)> Files(List<Parked> requests, string endpoint)
    {
        var buffer = new MemoryStream();
        var members = new List<Parked>();
        foreach (var request in requests)
        {
            var line = Line(request, endpoint);
            if (line.Length > settings.MaxFileBytes)
            {
                request.Answer.TrySetResult(BatchAnswer.Error(400, "request_too_large",
                    string.Create(CultureInfo.InvariantCulture, $"the request is larger than a batch file may be ({settings.MaxFileBytes:N0} bytes)")));
                continue;
            }
            if (members.Count > 0 && (members.Count >= settings.MaxRequestsPerFile || buffer.Length + line.Length > settings.MaxFileBytes))
            {
                yield return (BinaryData.FromBytes(buffer.ToArray()), members);
                buffer = new MemoryStream();
                members = [];
            }
            buffer.Write(line);
            members.Add(request);
        }
        if (members.Count > 0)
        {
            yield return (BinaryData.FromBytes(buffer.ToArray()), members);
        }
    }

    private static byte[] Line(Parked request, string endpoint)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("custom_id", request.CustomId);
            writer.WriteString("method", "POST");
            writer.WriteString("url", endpoint);
            writer.WritePropertyName("body");
            writer.WriteRawValue(request.Body);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Waits for a batch to end (polling with back-off), then reads its output and error files (kept in the run folder).</summary>
    private async Task<(BatchJob Job, List<(string Id, BatchAnswer Answer)> Lines)> CollectAsync(IBatchService service, BatchState store, string batchId)
    {
        var job = store.Ended(batchId);
        if (job is null)
        {
            job = await PollAsync(service, batchId).ConfigureAwait(false);
            store.Ended(job);
        }
        var lines = new List<(string, BatchAnswer)>();
        foreach (var (kind, fileId) in new[] { ("output", job.OutputFileId), ("errors", job.ErrorFileId) })
        {
            if (fileId is null)
            {
                continue;
            }
            var path = store.LocalFile(batchId, kind);
            BinaryData content;
            if (File.Exists(path))
            {
                content = BinaryData.FromBytes(await File.ReadAllBytesAsync(path, stopped).ConfigureAwait(false));
            }
            else
            {
                content = await service.DownloadAsync(fileId, stopped).ConfigureAwait(false);
                store.Keep(path, content);
            }
            lines.AddRange(ParseLines(content, $"{kind} file {fileId} of batch {batchId}"));
        }
        return (job, lines);
    }

    private async Task<BatchJob> PollAsync(IBatchService service, string batchId)
    {
        var wait = settings.FirstPoll;
        while (true)
        {
            try
            {
                var job = await service.GetAsync(batchId, stopped).ConfigureAwait(false);
                if (job.HasEnded)
                {
                    return job;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException
                || ex is ClientResultException { Status: 0 or 408 or 429 or >= 500 })
            {
                // A poll that failed on the way is asked again later: the batch itself goes on at the provider.
            }
            await Task.Delay(wait, time, stopped).ConfigureAwait(false);
            wait = TimeSpan.FromTicks(Math.Min(settings.MaxPoll.Ticks, wait.Ticks * 2));
        }
    }

    /// <summary>The lines of an output or error file: <c>custom_id</c>, then <c>response</c> (status and body) or <c>error</c>.</summary>
    internal static IEnumerable<(string Id, BatchAnswer Answer)> ParseLines(BinaryData content, string source)
    {
        var text = content.ToString();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            if (raw.Trim().Length == 0)
            {
                continue;
            }
            (string, BatchAnswer)? entry;
            try
            {
                using var document = JsonDocument.Parse(raw);
                entry = Entry(document.RootElement);
            }
            catch (JsonException)
            {
                entry = null;
            }
            // A line that cannot be read answers nothing; its request then fails as missing (a bad response, retried).
            if (entry is { } value)
            {
                yield return value;
            }
        }
        _ = source;
    }

    private static (string, BatchAnswer)? Entry(JsonElement line)
    {
        if (line.ValueKind != JsonValueKind.Object || !line.TryGetProperty("custom_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        if (line.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object
            && response.TryGetProperty("status_code", out var status) && status.TryGetInt32(out var code) && code is >= 100 and <= 599
            && response.TryGetProperty("body", out var body))
        {
            var bytes = body.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(body.GetString()!) : Encoding.UTF8.GetBytes(body.GetRawText());
            return (id.GetString()!, new BatchAnswer(code, bytes));
        }
        if (line.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            var errorCode = error.TryGetProperty("code", out var c) ? c.ToString() : "batch_error";
            var message = error.TryGetProperty("message", out var m) ? m.ToString() : "the batch reported an error for this request";
            // Expired or cancelled before it ran: worth another round; anything else as a server error (retried).
            return (id.GetString()!, BatchAnswer.Error(503, errorCode, message));
        }
        return null;
    }

    private sealed record Parked(string CustomId, byte[] Body, string Hash)
    {
        public TaskCompletionSource<BatchAnswer> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// The batch run's HTTP handler in front of an OpenAI or Azure OpenAI chat client's transport: a chat-completions request
/// of a trial's call is parked in its model's <see cref="BatchQueue"/> instead of being sent, and its line of the batch's
/// output comes back as the HTTP response — so the SDK builds the exact body a live call sends and parses the answer,
/// usage and errors as it would a live one's (the pipeline classifies them alike).
/// </summary>
internal sealed class BatchHandler(BatchQueue queue) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri?.AbsolutePath.EndsWith("/chat/completions", StringComparison.Ordinal) != true
            || BatchCall.Current.Value is not { } call || request.Content is null)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        var body = await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var answer = await queue.ParkAsync(call, body, cancellationToken).ConfigureAwait(false);
        var content = new ByteArrayContent(answer.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage((HttpStatusCode)answer.Status) { Content = content, RequestMessage = request };
    }
}
