using System.Security.Cryptography;
using System.Text;
using CausalEval.Core;
using CausalEval.Core.Json;
using CausalEval.Models.Middleware;

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
                state.Apply(JsonInput.Deserialize($"{state.StatePath}:{number}", line, ModelsJsonContext.Default.BatchEvent));
            }
            catch (InputException ex)
            {
                // The last line may be cut off by a crash; an earlier bad line is a damaged file.
                if (File.ReadLines(state.StatePath).Skip(number).Any(l => l.Length > 0))
                {
                    throw new InputException(state.StatePath, $"line {number}", $"not a batch state event ({ex.Field}: {ex.Problem})");
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

    public void Uploaded(string model, string fileId, IReadOnlyList<(string CustomId, string Hash)> requests)
    {
        var hashes = new Dictionary<string, string>(requests.Count, StringComparer.Ordinal);
        foreach (var (id, hash) in requests)
        {
            hashes[id] = hash;
        }
        Append(new UploadedEvent(model, fileId, hashes));
    }

    public void Created(string model, string fileId, string batchId) => Append(new CreatedEvent(model, fileId, batchId));

    public void Ended(BatchJob job) => Append(new EndedEvent(job.Id, job.Status, job.OutputFileId, job.ErrorFileId, job.Errors));

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

    private void Append(BatchEvent line)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonInput.ToLine(line, ModelsJsonContext.Default.BatchEvent) + "\n");
        lock (_gate)
        {
            Directory.CreateDirectory(_folder);
            using (var stream = new FileStream(StatePath, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            Apply(line);
        }
    }

    private void Apply(BatchEvent line)
    {
        switch (line)
        {
            case UploadedEvent uploaded:
                foreach (var (customId, hash) in uploaded.Requests)
                {
                    _requests[customId] = (hash, uploaded.FileId);
                }
                break;
            case CreatedEvent created:
                _batchOfFile[created.FileId] = created.BatchId;
                _modelOfBatch[created.BatchId] = created.Model;
                break;
            case EndedEvent ended:
                _ended[ended.BatchId] = new BatchJob(ended.BatchId, ended.Status, ended.OutputFileId, ended.ErrorFileId, ended.Errors);
                break;
        }
    }
}
