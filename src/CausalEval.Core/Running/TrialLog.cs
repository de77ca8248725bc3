using System.Text;
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
    public static TrialSummary From(TrialRecord record) => new(
        record.Spec.TrialId, record.Spec.TaskId, record.Spec.Model, record.Spec.PromptVariant, record.Spec.Epoch,
        record.Scores, record.Transcript?.Steps.Length ?? 0, record.Usage, record.Cost, record.Error is not null);
}

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

    /// <summary>Streams the summaries of every whole line; a malformed whole line is bad input naming file and line.</summary>
    public static IEnumerable<TrialSummary> Read(string path)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            TrialSummary summary;
            try
            {
                summary = Parse(line);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new InputException($"{path}:{lineNumber}", "$", $"not a trial record ({ex.Message})");
            }
            yield return summary;
        }
    }

    private static TrialSummary Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var scores = root.GetProperty("scores");
        var usage = root.GetProperty("usage");
        return new TrialSummary(
            root.GetProperty("trial_id").GetString()!,
            root.GetProperty("task").GetString()!,
            root.GetProperty("model").GetString()!,
            root.GetProperty("prompt_variant").GetString(),
            root.GetProperty("epoch").GetInt32(),
            scores.ValueKind == JsonValueKind.Null ? null : ReadScores(scores),
            root.GetProperty("steps").GetArrayLength(),
            new Usage(usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64()),
            root.GetProperty("cost").GetDouble(),
            root.GetProperty("error").ValueKind != JsonValueKind.Null);
    }

    private static Scores ReadScores(JsonElement s) => new()
    {
        ExploitValue = NullableDouble(s, "exploit_value"),
        OptimalValue = s.GetProperty("optimal_value").GetDouble(),
        Normalized = NullableDouble(s, "normalized"),
        OptimalAction = s.GetProperty("optimal_action").GetInt32(),
        Regret = NullableDouble(s, "regret"),
        ExploreCoverage = NullableDouble(s, "explore_coverage"),
        SubsetAdherence = NullableDouble(s, "subset_adherence"),
        StructureF1 = NullableDouble(s, "structure_f1"),
        Shd = s.GetProperty("shd") is { ValueKind: JsonValueKind.Number } shd ? shd.GetInt32() : null,
        InvalidActions = s.GetProperty("invalid_actions").GetInt32(),
        ParseFailures = s.GetProperty("parse_failures").GetInt32(),
    };

    private static double? NullableDouble(JsonElement element, string name)
        => element.GetProperty(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : null;
}
