using System.Buffers;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.Running;

/// <summary>What aggregates need of one trial line: identity, scores, usage and cost.</summary>
public sealed record TrialSummary(
    string TrialId,
    string Task,
    string Model,
    string? PromptVariant,
    int Epoch,
    Scores? Scores,
    int Decisions,
    Usage Usage,
    double Cost,
    bool Failed)
{
    /// <summary>The episode's id within its task (<c>episode</c>).</summary>
    public string Episode { get; init; } = "";

    /// <summary>The variable-naming scheme (<c>naming</c>: letters, semantic, nonsense), null when the line has none.</summary>
    public string? Naming { get; init; }

    /// <summary>Wall time of the trial in milliseconds (<c>latency_ms</c>); NaN when the line has none.</summary>
    public double LatencyMs { get; init; } = double.NaN;

    public static TrialSummary From(TrialRecord record) => new(
        record.Spec.TrialId, record.Spec.TaskId, record.Spec.Model, record.Spec.PromptVariant, record.Spec.Epoch,
        record.Scores, record.Transcript?.Steps.Length ?? 0, record.Usage, record.Cost, record.Error is not null)
    {
        Episode = record.Spec.Episode.Id,
        LatencyMs = record.Latency.TotalMilliseconds,
    };
}

/// <summary>
/// One whole line of <c>trials.jsonl</c>: its 1-based number, its summary, and its UTF-8 bytes. <see cref="Json"/> is a
/// view into a buffer that the reader reuses: it is valid until the next line is read, so copy what you keep.
/// </summary>
public readonly record struct TrialLine(long LineNumber, TrialSummary Summary, ReadOnlyMemory<byte> Json);

/// <summary>
/// Reads <c>trials.jsonl</c> back. Lines are written whole and flushed one at a time, so after a crash only the
/// last line can be incomplete: <see cref="RepairTornTail"/> cuts it off before a run resumes appending.
/// </summary>
public static class TrialLog
{
    /// <summary>Removes an incomplete last line (no final newline); returns how many bytes were removed.</summary>
    public static long RepairTornTail(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var length = stream.Length;
        var end = length;
        var buffer = new byte[1];
        while (end > 0)
        {
            stream.Position = end - 1;
            stream.ReadExactly(buffer);
            if (buffer[0] == (byte)'\n')
            {
                break;
            }
            end--;
        }
        if (end < length)
        {
            stream.SetLength(end);
        }
        return length - end;
    }

    /// <summary>Streams the summaries of every whole line; a malformed whole line is bad input naming file, line and field.</summary>
    public static IEnumerable<TrialSummary> Read(string path)
    {
        foreach (var line in ReadLines(path))
        {
            yield return line.Summary;
        }
    }

    /// <summary>
    /// Streams every line with its bytes, reading UTF-8 straight from the file (constant memory whatever the file's
    /// size). A malformed line is bad input naming file, line and field. A last line without its newline that does
    /// not parse is a torn tail (the writer crashed mid-line): with <paramref name="onTornTail"/> it is skipped and
    /// reported there (line number, bytes), otherwise it is bad input like any other.
    /// </summary>
    public static IEnumerable<TrialLine> ReadLines(string path, Action<long, int>? onTornTail = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int start = 0, end = 0;
            long lineNumber = 0;
            var atEnd = false;
            while (true)
            {
                var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (newline < 0 && !atEnd)
                {
                    // Move the partial line to the front (growing the buffer for a long line) and read more.
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    if (end == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, larger, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    var read = stream.Read(buffer, end, buffer.Length - end);
                    atEnd = read == 0;
                    end += read;
                    continue;
                }
                if (newline < 0 && start == end)
                {
                    yield break;
                }
                var length = newline < 0 ? end - start : newline;
                var json = buffer.AsMemory(start, length);
                start += newline < 0 ? length : length + 1;
                lineNumber++;
                if (lineNumber == 1 && json.Span.StartsWith("\uFEFF"u8))
                {
                    json = json[3..];
                }
                if (json.Span.Trim((byte)'\r').IsEmpty)
                {
                    continue;
                }
                TrialSummary summary;
                try
                {
                    summary = Parse(json, path, lineNumber);
                }
                catch (InputException) when (newline < 0 && onTornTail is not null)
                {
                    onTornTail(lineNumber, length);
                    yield break;
                }
                yield return new TrialLine(lineNumber, summary, json);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses one line; every problem is bad input naming <c>file:line</c> and the field.</summary>
    public static TrialSummary Parse(ReadOnlyMemory<byte> json, string path, long lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new InputException($"{path}:{lineNumber}", $"byte {(ex.BytePositionInLine ?? 0) + 1}", "not a JSON object (a malformed or incomplete line)");
        }
        using (document)
        {
            var line = new Line(path, lineNumber);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw line.Error("$", $"expected a trial object, found {root.ValueKind.ToString().ToLowerInvariant()}");
            }
            var scores = line.Field(root, "scores", "scores", nullable: true);
            var usage = line.Field(root, "usage", "usage");
            var error = line.Field(root, "error", "error", nullable: true);
            var latency = line.OptionalNumber(root, "latency_ms", "latency_ms");
            return new TrialSummary(
                line.String(root, "trial_id", "trial_id"),
                line.String(root, "task", "task"),
                line.String(root, "model", "model"),
                line.OptionalString(root, "prompt_variant", "prompt_variant"),
                line.Int(root, "epoch", "epoch"),
                scores.ValueKind == JsonValueKind.Null ? null : ReadScores(line, scores),
                line.Array(root, "steps", "steps").GetArrayLength(),
                new Usage(line.Long(usage, "input_tokens", "usage.input_tokens"), line.Long(usage, "output_tokens", "usage.output_tokens")),
                line.Number(root, "cost", "cost"),
                error.ValueKind != JsonValueKind.Null)
            {
                Episode = line.String(root, "episode", "episode"),
                Naming = line.OptionalString(root, "naming", "naming"),
                LatencyMs = latency ?? double.NaN,
            };
        }
    }

    private static Scores ReadScores(Line line, JsonElement s)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            throw line.Error("scores", $"expected an object or null, found {s.ValueKind.ToString().ToLowerInvariant()}");
        }
        return new Scores
        {
            ExploitValue = line.OptionalNumber(s, "exploit_value", "scores.exploit_value"),
            OptimalValue = line.Number(s, "optimal_value", "scores.optimal_value"),
            Normalized = line.OptionalNumber(s, "normalized", "scores.normalized"),
            OptimalAction = ZeroOrOne(line, line.Int(s, "optimal_action", "scores.optimal_action"), "scores.optimal_action"),
            Regret = line.OptionalNumber(s, "regret", "scores.regret"),
            ExploreCoverage = line.OptionalNumber(s, "explore_coverage", "scores.explore_coverage"),
            SubsetAdherence = line.OptionalNumber(s, "subset_adherence", "scores.subset_adherence"),
            StructureF1 = line.OptionalNumber(s, "structure_f1", "scores.structure_f1"),
            Shd = line.OptionalNumber(s, "shd", "scores.shd") is { } shd ? (int)shd : null,
            InvalidActions = line.Int(s, "invalid_actions", "scores.invalid_actions"),
            ParseFailures = line.Int(s, "parse_failures", "scores.parse_failures"),
        };
    }

    private static int ZeroOrOne(Line line, int value, string field)
        => value is 0 or 1 ? value : throw line.Error(field, $"expected 0 or 1, found {value}");

    /// <summary>Field access that names file, line and field when the line does not have the expected shape.</summary>
    private readonly struct Line(string path, long number)
    {
        public InputException Error(string field, string problem) => new($"{path}:{number}", field, problem);

        public JsonElement Field(JsonElement parent, string name, string field, bool nullable = false)
        {
            RequireObject(parent, field);
            if (!parent.TryGetProperty(name, out var value))
            {
                throw Error(field, "required field is missing");
            }
            if (!nullable && value.ValueKind == JsonValueKind.Null)
            {
                throw Error(field, "must not be null");
            }
            return value;
        }

        public string String(JsonElement parent, string name, string field)
            => Field(parent, name, field) is { ValueKind: JsonValueKind.String } value ? value.GetString()! : throw Expected(field, "a string", parent, name);

        public string? OptionalString(JsonElement parent, string name, string field)
            => !RequireObject(parent, field).TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
                : value.ValueKind == JsonValueKind.String ? value.GetString() : throw Expected(field, "a string or null", parent, name);

        public double Number(JsonElement parent, string name, string field)
            => Field(parent, name, field) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : throw Expected(field, "a number", parent, name);

        public double? OptionalNumber(JsonElement parent, string name, string field)
            => !RequireObject(parent, field).TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
                : value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw Expected(field, "a number or null", parent, name);

        public int Int(JsonElement parent, string name, string field)
            => Field(parent, name, field) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var result)
                ? result : throw Expected(field, "a whole number", parent, name);

        public long Long(JsonElement parent, string name, string field)
            => Field(parent, name, field) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var result)
                ? result : throw Expected(field, "a whole number", parent, name);

        public JsonElement Array(JsonElement parent, string name, string field)
            => Field(parent, name, field) is { ValueKind: JsonValueKind.Array } value ? value : throw Expected(field, "an array", parent, name);

        private JsonElement RequireObject(JsonElement parent, string field)
        {
            if (parent.ValueKind != JsonValueKind.Object)
            {
                var cut = field.LastIndexOf('.');
                throw Error(cut < 0 ? "$" : field[..cut], $"expected an object, found {Shorten(parent.GetRawText())}");
            }
            return parent;
        }

        private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

        private InputException Expected(string field, string what, JsonElement parent, string name)
        {
            var found = parent.GetProperty(name);
            return Error(field, $"expected {what}, found {Shorten(found.GetRawText())}");
        }
    }
}
