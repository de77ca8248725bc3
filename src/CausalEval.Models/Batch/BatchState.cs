using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CausalEval.Models.Batch;

/// <summary>
/// A batch run's remote state in its run folder, so that <c>--resume</c> after a crash or a reboot polls what was
/// submitted and never submits a request twice: <c>batches/state.jsonl</c>, one line per event, appended and flushed as
/// it happens — a request file uploaded (its file id, and each request's <c>custom_id</c> with the SHA-256 of its body), a
/// batch created from it (the batch id), a batch ended (its status and output/error file ids) — and each ended batch's
/// output and error files as downloaded (<c>batches/&lt;batch id&gt;.output.jsonl</c>, <c>.errors.jsonl</c>).
/// </summary>
internal sealed class BatchState
{
    public const string FolderName = "batches";
    public const string FileName = "state.jsonl";

    private readonly object _gate = new();
    private readonly string _folder;
    private readonly Dictionary<string, (string Hash, string FileId)> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _batchOfFile = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BatchJob> _ended = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _modelOfBatch = new(StringComparer.Ordinal);

    private BatchState(string folder) => _folder = folder;

    public string StatePath => Path.Combine(_folder, FileName);

    /// <summary>The state of the run folder <paramref name="runDirectory"/> (empty for a new run).</summary>
    public static BatchState Open(string runDirectory)
    {
        var state = new BatchState(Path.Combine(runDirectory, FolderName));
        if (!File.Exists(state.StatePath))
        {
            return state;
        }
        var number = 0;
        foreach (var line in File.ReadLines(state.StatePath))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            try
            {
                using var document = JsonDocument.Parse(line);
                state.Apply(document.RootElement);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                // The last line may be cut off by a crash; an earlier bad line is a damaged file.
                if (File.ReadLines(state.StatePath).Skip(number).Any(l => l.Length > 0))
                {
                    throw new Core.InputException(state.StatePath, $"line {number}", $"not a batch state event ({ex.Message})");
                }
            }
        }
        return state;
    }

    /// <summary>SHA-256 of a request body, so that a resumed run reuses a submitted request only if it sends the same.</summary>
    public static string Hash(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>The batch a request (same id, same body) went into; null if none, or only its file if the batch was never created.</summary>
    public (string FileId, string? BatchId)? Find(string customId, string hash)
    {
        lock (_gate)
        {
            return _requests.TryGetValue(customId, out var request) && request.Hash == hash
                ? (request.FileId, _batchOfFile.GetValueOrDefault(request.FileId))
                : null;
        }
    }

    /// <summary>How a batch ended, if it has.</summary>
    public BatchJob? Ended(string batchId)
    {
        lock (_gate)
        {
            return _ended.GetValueOrDefault(batchId);
        }
    }

    /// <summary>Batches created and not known to have ended, with their model ids.</summary>
    public IReadOnlyList<(string BatchId, string Model)> Open()
    {
        lock (_gate)
        {
            return [.. _modelOfBatch.Where(p => !_ended.ContainsKey(p.Key)).Select(p => (p.Key, p.Value))];
        }
    }

    public void Uploaded(string model, string fileId, IReadOnlyList<(string CustomId, string Hash)> requests) => Append(writer =>
    {
        writer.WriteString("event", "uploaded");
        writer.WriteString("model", model);
        writer.WriteString("file_id", fileId);
        writer.WriteStartObject("requests");
        foreach (var (id, hash) in requests)
        {
            writer.WriteString(id, hash);
        }
        writer.WriteEndObject();
    });

    public void Created(string model, string fileId, string batchId) => Append(writer =>
    {
        writer.WriteString("event", "created");
        writer.WriteString("model", model);
        writer.WriteString("file_id", fileId);
        writer.WriteString("batch_id", batchId);
    });

    public void Ended(BatchJob job) => Append(writer =>
    {
        writer.WriteString("event", "ended");
        writer.WriteString("batch_id", job.Id);
        writer.WriteString("status", job.Status);
        writer.WriteString("output_file_id", job.OutputFileId);
        writer.WriteString("error_file_id", job.ErrorFileId);
        writer.WriteString("errors", job.Errors);
    });

    /// <summary>Where a batch's downloaded output (<paramref name="kind"/> <c>output</c>) or error file is kept.</summary>
    public string LocalFile(string batchId, string kind)
    {
        // Ids come from a server: only a safe file name is used as is.
        var name = batchId.Length <= 100 && batchId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? batchId : Hash(Encoding.UTF8.GetBytes(batchId));
        return Path.Combine(_folder, $"{name}.{kind}.jsonl");
    }

    /// <summary>Keeps a downloaded file (written whole, then renamed, so a crash leaves none half-written).</summary>
    public void Keep(string path, BinaryData content)
    {
        Directory.CreateDirectory(_folder);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content.ToArray());
        File.Move(temporary, path, overwrite: true);
    }

    private void Append(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        var bytes = buffer.ToArray();
        lock (_gate)
        {
            Directory.CreateDirectory(_folder);
            using (var stream = new FileStream(StatePath, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            using var document = JsonDocument.Parse(bytes.AsMemory(0, bytes.Length - 1));
            Apply(document.RootElement);
        }
    }

    private void Apply(JsonElement line)
    {
        string Text(string name) => line.GetProperty(name).GetString() ?? throw new InvalidOperationException($"{name} is null");
        string? Optional(string name) => line.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        switch (Text("event"))
        {
            case "uploaded":
                foreach (var request in line.GetProperty("requests").EnumerateObject())
                {
                    _requests[request.Name] = (request.Value.GetString() ?? "", Text("file_id"));
                }
                break;
            case "created":
                _batchOfFile[Text("file_id")] = Text("batch_id");
                _modelOfBatch[Text("batch_id")] = Text("model");
                break;
            case "ended":
                _ended[Text("batch_id")] = new BatchJob(Text("batch_id"), Text("status"), Optional("output_file_id"), Optional("error_file_id"), Optional("errors"));
                break;
            default:
                throw new InvalidOperationException($"unknown event '{Text("event")}'");
        }
    }
}
