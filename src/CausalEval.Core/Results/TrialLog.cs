using System.Buffers;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.Results;

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

    /// <summary>The error's kind (<c>error.kind</c>, e.g. <c>rate_limited</c>) when the trial failed; else null.</summary>
    public string? ErrorKind { get; init; }

    public static TrialSummary From(TrialRecord record) => new(
        record.Spec.TrialId, record.Spec.TaskId, record.Spec.DisplayModel, record.Spec.PromptVariant, record.Spec.Epoch,
        record.Scores, record.Transcript?.Steps.Length ?? 0, record.Usage, record.Cost, record.Error is not null)
    {
        Episode = record.Spec.Episode.Id,
        Naming = record.Spec.Naming,
        LatencyMs = record.Latency.TotalMilliseconds,
        ErrorKind = record.Error?.Kind,
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

    /// <summary>
    /// Parses one line in a single forward pass (no document is built: reports read 100,000s of lines); fields it does not
    /// know are skipped, so newer writers can add fields. Every problem is bad input naming <c>file:line</c> and the field.
    /// </summary>
    public static TrialSummary Parse(ReadOnlyMemory<byte> json, string path, long lineNumber)
    {
        var line = new Line(path, lineNumber);
        var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw line.Error("$", "expected a trial object");
            }
            string? trialId = null, task = null, model = null, episode = null, variant = null, naming = null;
            int? epoch = null, steps = null;
            double? cost = null, latency = null;
            (bool Seen, Scores? Value) scores = default;
            Usage? usage = null;
            bool? failed = null;
            string? errorKind = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(TrialFields.TrialId.EncodedUtf8Bytes)) { trialId = line.String(ref reader, "trial_id"); }
                else if (reader.ValueTextEquals(TrialFields.Task.EncodedUtf8Bytes)) { task = line.String(ref reader, "task"); }
                else if (reader.ValueTextEquals(TrialFields.Episode.EncodedUtf8Bytes)) { episode = line.String(ref reader, "episode"); }
                else if (reader.ValueTextEquals(TrialFields.Model.EncodedUtf8Bytes)) { model = line.String(ref reader, "model"); }
                else if (reader.ValueTextEquals(TrialFields.PromptVariant.EncodedUtf8Bytes)) { variant = line.OptionalString(ref reader, "prompt_variant"); }
                else if (reader.ValueTextEquals(TrialFields.Naming.EncodedUtf8Bytes)) { naming = line.OptionalString(ref reader, "naming"); }
                else if (reader.ValueTextEquals(TrialFields.Epoch.EncodedUtf8Bytes)) { epoch = line.Int(ref reader, "epoch"); }
                else if (reader.ValueTextEquals(TrialFields.Steps.EncodedUtf8Bytes)) { steps = line.CountArray(ref reader, "steps"); }
                else if (reader.ValueTextEquals(TrialFields.ScoresObject.EncodedUtf8Bytes)) { scores = (true, ReadScores(line, ref reader)); }
                else if (reader.ValueTextEquals(TrialFields.Usage.EncodedUtf8Bytes)) { usage = ReadUsage(line, ref reader); }
                else if (reader.ValueTextEquals(TrialFields.Cost.EncodedUtf8Bytes))
                {
                    cost = line.Number(ref reader, "cost");
                    if (!(cost >= 0 && double.IsFinite(cost.Value)))
                    {
                        throw line.Error("cost", "must be a finite number of US dollars ≥ 0");
                    }
                }
                else if (reader.ValueTextEquals(TrialFields.LatencyMs.EncodedUtf8Bytes)) { latency = line.OptionalNumber(ref reader, "latency_ms"); }
                else if (reader.ValueTextEquals(TrialFields.Error.EncodedUtf8Bytes))
                {
                    reader.Read();
                    failed = reader.TokenType switch
                    {
                        JsonTokenType.Null => false,
                        JsonTokenType.StartObject => true,
                        _ => throw line.Expected("error", "an object or null", ref reader),
                    };
                    if (failed == true)
                    {
                        errorKind = ReadErrorKind(line, ref reader);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            while (reader.Read())
            {
                // Anything after the object makes the reader throw.
            }
            return new TrialSummary(
                trialId ?? throw line.Missing("trial_id"),
                task ?? throw line.Missing("task"),
                model ?? throw line.Missing("model"),
                variant,
                epoch ?? throw line.Missing("epoch"),
                scores.Seen ? scores.Value : throw line.Missing("scores"),
                steps ?? throw line.Missing("steps"),
                usage ?? throw line.Missing("usage"),
                cost ?? throw line.Missing("cost"),
                failed ?? throw line.Missing("error"))
            {
                Episode = episode ?? throw line.Missing("episode"),
                Naming = naming,
                LatencyMs = latency ?? double.NaN,
                ErrorKind = errorKind,
            };
        }
        catch (JsonException ex)
        {
            throw new InputException($"{path}:{lineNumber}", $"byte {(ex.BytePositionInLine ?? 0) + 1}", "not a JSON object (a malformed or incomplete line)");
        }
    }

    /// <summary>The <c>kind</c> of an error object (the reader is on its start), skipping the rest of it.</summary>
    private static string? ReadErrorKind(Line line, ref Utf8JsonReader reader)
    {
        string? kind = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("kind"u8))
            {
                kind = line.OptionalString(ref reader, "error.kind");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return kind;
    }

    private static Scores? ReadScores(Line line, ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw line.Expected("scores", "an object or null", ref reader);
        }
        var fields = TrialFields.Scores;
        var scores = default(Scores);
        var seen = 0UL;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var known = false;
            for (var i = 0; i < fields.Count; i++)
            {
                var field = fields[i];
                if (!reader.ValueTextEquals(field.Encoded.EncodedUtf8Bytes))
                {
                    continue;
                }
                var name = field.Path;
                double? value = field.Kind switch
                {
                    ScoreKind.Number => line.Number(ref reader, name),
                    ScoreKind.OptionalNumber or ScoreKind.OptionalCount => line.OptionalNumber(ref reader, name),
                    ScoreKind.ZeroOrOne => ZeroOrOne(line, line.Int(ref reader, name), name),
                    _ => line.Int(ref reader, name),
                };
                scores = field.Set(scores, value);
                seen |= 1UL << i;
                known = true;
                break;
            }
            if (!known)
            {
                reader.Read();
                reader.Skip();
            }
        }
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Required && (seen & (1UL << i)) == 0)
            {
                throw line.Missing(fields[i].Path);
            }
        }
        return scores;
    }

    private static Usage ReadUsage(Line line, ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw line.Expected("usage", "an object", ref reader);
        }
        long? input = null, output = null;
        long cachedInput = 0, cachedOutput = 0; // tokens answered from the response cache (absent in older lines)
        long promptCache = 0; // of the input, read from the provider's prompt cache (absent when there were none)
        long promptCacheWrite = 0; // of the input, written to the provider's prompt cache (absent when there were none)
        long unmetered = 0; // attempts abandoned before the server reported usage (absent when there were none)
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8)) { input = line.Long(ref reader, "usage.input_tokens"); }
            else if (reader.ValueTextEquals("output_tokens"u8)) { output = line.Long(ref reader, "usage.output_tokens"); }
            else if (reader.ValueTextEquals("cached_input_tokens"u8)) { cachedInput = line.Long(ref reader, "usage.cached_input_tokens"); }
            else if (reader.ValueTextEquals("cached_output_tokens"u8)) { cachedOutput = line.Long(ref reader, "usage.cached_output_tokens"); }
            else if (reader.ValueTextEquals("prompt_cache_tokens"u8)) { promptCache = line.Long(ref reader, "usage.prompt_cache_tokens"); }
            else if (reader.ValueTextEquals("prompt_cache_write_tokens"u8)) { promptCacheWrite = line.Long(ref reader, "usage.prompt_cache_write_tokens"); }
            else if (reader.ValueTextEquals("unmetered_attempts"u8)) { unmetered = line.Long(ref reader, "usage.unmetered_attempts"); }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        var usage = new Usage(input ?? throw line.Missing("usage.input_tokens"), output ?? throw line.Missing("usage.output_tokens"), cachedInput, cachedOutput,
            promptCache, promptCacheWrite, unmetered);
        // Token counts are never negative: a line that says so was not written by a run (and would make spend decrease).
        if (usage.InputTokens < 0 || usage.OutputTokens < 0 || usage.CachedInputTokens < 0 || usage.CachedOutputTokens < 0 || usage.PromptCacheTokens < 0
            || usage.PromptCacheWriteTokens < 0 || usage.UnmeteredAttempts < 0)
        {
            throw line.Error("usage", "token counts must be at least 0");
        }
        return usage;
    }

    private static int ZeroOrOne(Line line, int value, string field)
        => value is 0 or 1 ? value : throw line.Error(field, $"expected 0 or 1, found {value}");

    /// <summary>Reads the value after a property name and names file, line and field when it has the wrong shape.</summary>
    private readonly struct Line(string path, long number)
    {
        public InputException Error(string field, string problem) => new($"{path}:{number}", field, problem);

        public InputException Missing(string field) => Error(field, "required field is missing");

        public string String(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            return reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Null => throw Error(field, "must not be null"),
                _ => throw Expected(field, "a string", ref reader),
            };
        }

        public string? OptionalString(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            return reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Null => null,
                _ => throw Expected(field, "a string or null", ref reader),
            };
        }

        public double Number(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            return reader.TokenType switch
            {
                JsonTokenType.Number => reader.GetDouble(),
                JsonTokenType.Null => throw Error(field, "must not be null"),
                _ => throw Expected(field, "a number", ref reader),
            };
        }

        public double? OptionalNumber(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            return reader.TokenType switch
            {
                JsonTokenType.Number => reader.GetDouble(),
                JsonTokenType.Null => null,
                _ => throw Expected(field, "a number or null", ref reader),
            };
        }

        public int Int(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value)
                ? value
                : reader.TokenType == JsonTokenType.Null ? throw Error(field, "must not be null") : throw Expected(field, "a whole number", ref reader);
        }

        public long Long(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value)
                ? value
                : reader.TokenType == JsonTokenType.Null ? throw Error(field, "must not be null") : throw Expected(field, "a whole number", ref reader);
        }

        /// <summary>The length of the array that follows, skipping its items.</summary>
        public int CountArray(ref Utf8JsonReader reader, string field)
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw reader.TokenType == JsonTokenType.Null ? Error(field, "must not be null") : Expected(field, "an array", ref reader);
            }
            var count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
                count++;
            }
            return count;
        }

        /// <summary>"expected …, found …" with the offending value (shortened).</summary>
        public InputException Expected(string field, string what, ref Utf8JsonReader reader)
        {
            string found = reader.TokenType switch
            {
                JsonTokenType.StartObject => "an object",
                JsonTokenType.StartArray => "an array",
                JsonTokenType.String => "\"" + Shorten(reader.GetString()!) + "\"",
                _ => Shorten(System.Text.Encoding.UTF8.GetString(reader.ValueSpan)),
            };
            return Error(field, $"expected {what}, found {found}");
        }

        private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
    }
}
