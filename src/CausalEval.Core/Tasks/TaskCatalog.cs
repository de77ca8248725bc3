using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.Tasks;

/// <summary>
/// The folder of tasks: <c>&lt;root&gt;/&lt;task-id&gt;/task.json</c> and the committed
/// <c>&lt;root&gt;/&lt;task-id&gt;/test.jsonl</c> and <c>validation.jsonl</c>.
/// </summary>
public sealed class TaskCatalog(string root)
{
    public const string TaskFileName = "task.json";
    public const string TestFileName = "test.jsonl";
    public const string ValidationFileName = "validation.jsonl";
    public const string EnvironmentVariable = "CAUSALEVAL_DATASETS";

    public string Root { get; } = root;

    /// <summary>
    /// Finds the datasets folder: an explicit path, else $CAUSALEVAL_DATASETS, else ./datasets (the repository's,
    /// when run from its root), else the copy next to the executable.
    /// </summary>
    public static TaskCatalog Locate(string? explicitRoot = null)
    {
        if (explicitRoot is not null)
        {
            return Directory.Exists(explicitRoot)
                ? new TaskCatalog(explicitRoot)
                : throw new InputException("--datasets", explicitRoot, "no such folder");
        }
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable(EnvironmentVariable),
            Path.Combine(Directory.GetCurrentDirectory(), "datasets"),
            Path.Combine(AppContext.BaseDirectory, "datasets"),
        };
        var found = candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && Directory.Exists(c));
        return new TaskCatalog(found ?? throw new InputException(EnvironmentVariable, "datasets", "no datasets folder found (set CAUSALEVAL_DATASETS or pass --datasets)"));
    }

    public IReadOnlyList<string> TaskIds() =>
        [.. Directory.EnumerateDirectories(Root)
            .Where(d => File.Exists(Path.Combine(d, TaskFileName)))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// The causal-DAG tasks: the default suite of <c>run</c> and what the imitation baseline trains on and is evaluated
    /// on (odd-one-out tasks are run by naming them, with the agents that play that family).
    /// </summary>
    public IReadOnlyList<string> DagTaskIds() => [.. TaskIds().Where(id => TaskDefinition.IsDagFamily(TaskJson.Load(Path.Combine(Root, id, TaskFileName)).Family))];

    public TaskDefinition Load(string taskId)
    {
        var path = Path.Combine(Root, taskId, TaskFileName);
        if (taskId.Contains('/') || taskId.Contains('\\') || !File.Exists(path))
        {
            throw new InputException("--task", taskId, $"unknown task (known: {string.Join(", ", TaskIds())})");
        }
        var task = TaskJson.Load(path);
        if (task.Id != taskId)
        {
            throw new InputException(path, "id", $"'{task.Id}' does not match its folder '{taskId}'");
        }
        if (!TaskDefinition.IsDagFamily(task.Family))
        {
            return task;
        }
        // Train and validation episodes must differ from the committed splits above them: read those, not regenerate them.
        DatasetGenerator.UseCommittedSplits(task, split => File.Exists(SplitPath(taskId, split)) ? ReadSplitFile(SplitPath(taskId, split)) : null);
        return task;
    }

    public string TestSplitPath(string taskId) => Path.Combine(Root, taskId, TestFileName);

    /// <summary>The committed file of a split: <c>test.jsonl</c> or <c>validation.jsonl</c> (train is generated on demand).</summary>
    public string SplitPath(string taskId, string split) => split switch
    {
        TaskDefinition.TestSplit => TestSplitPath(taskId),
        TaskDefinition.ValidationSplit => Path.Combine(Root, taskId, ValidationFileName),
        _ => throw new InputException("--split", split, $"not a committed split (expected {string.Join(" or ", TaskDefinition.CommittedSplits)})"),
    };

    /// <summary>Streams the committed test split, failing with file:line and field on a malformed line.</summary>
    public IEnumerable<Episode> LoadTestSplit(string taskId, int? limit = null) => ReadSplitFile(TestSplitPath(taskId), limit);

    /// <summary>Streams a committed split (test or validation), failing with file:line and field on a malformed line.</summary>
    public IEnumerable<Episode> LoadSplit(string taskId, string split, int? limit = null) => ReadSplitFile(SplitPath(taskId, split), limit);

    /// <summary>
    /// Streams a committed split of any family (what runs play): the causal-DAG episodes of <see cref="LoadSplit"/>, or
    /// odd-one-out episodes, failing with file:line and field on a malformed line.
    /// </summary>
    public IEnumerable<TaskEpisode> LoadEpisodes(TaskDefinition task, string split, int? limit = null)
        => TaskDefinition.IsDagFamily(task.Family)
            ? LoadSplit(task.Id, split, limit)
            : ReadLines(SplitPath(task.Id, split), limit, OddOneOut.OddOneOutJson.Parse, e => e.Id);

    /// <summary>
    /// The episodes of a committed split whose ids are in <paramref name="ids"/>, in file order: each line's id is read
    /// first and only those lines are parsed (a report embeds a few episodes of splits of hundreds). A line whose id
    /// cannot be read is parsed, so that a malformed one still fails with file:line and field.
    /// </summary>
    public IEnumerable<Episode> LoadSplit(string taskId, string split, IReadOnlySet<string> ids) => ReadSplit(SplitPath(taskId, split), limit: null, ids.Contains);

    public static IEnumerable<Episode> ReadSplitFile(string path, int? limit = null) => ReadSplit(path, limit, keep: null);

    private static IEnumerable<Episode> ReadSplit(string path, int? limit, Func<string, bool>? keep)
    {
        // The ideal observer's precomputed posteriors for this split, when shipped beside it (observer-<split>.jsonl).
        Inference.ObserverCache.LoadPrecomputed(path);
        foreach (var episode in ReadLines(path, limit, EpisodeJson.Parse, e => e.Id, keep))
        {
            yield return episode;
        }
    }

    /// <summary>The string value of a line's top-level <c>id</c>, or null when it cannot be read without parsing the line.</summary>
    internal static string? LineId(string line)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(line));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                if (!reader.Read())
                {
                    return null;
                }
                if (isId)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                reader.Skip();
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<T> ReadLines<T>(string path, int? limit, Func<string, string, (T Episode, string Split)> parse, Func<T, string> id,
        Func<string, bool>? keep = null)
    {
        if (!File.Exists(path))
        {
            throw new InputException(path, "$", "the dataset file does not exist (run `causaleval datasets generate <id>`)");
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        var yielded = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (limit is { } max && yielded >= max)
            {
                yield break;
            }
            if (string.IsNullOrWhiteSpace(line) || (keep is not null && LineId(line) is { } lineId && !keep(lineId)))
            {
                continue;
            }
            var (episode, _) = parse(line, $"{path}:{lineNumber}");
            if (!ids.Add(id(episode)))
            {
                throw new InputException($"{path}:{lineNumber}", "id", $"duplicate episode id '{id(episode)}'");
            }
            yielded++;
            yield return episode;
        }
    }

    /// <summary>The bytes <c>datasets generate</c> writes for a split: one JSON line per episode, '\n' after each.</summary>
    public static void WriteSplit(TaskDefinition task, string split, int? count, Stream output)
    {
        using var writer = new StreamWriter(output, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        // A copy of the task, not tied to the committed files: what is written is what the generator alone makes (a file
        // left from an earlier version must not decide which episodes a lower split excludes).
        if (!TaskDefinition.IsDagFamily(task.Family))
        {
            foreach (var episode in OddOneOut.OddOneOutGenerator.Generate(task with { }, split, count))
            {
                writer.WriteLine(OddOneOut.OddOneOutJson.ToLine(episode, split));
            }
            return;
        }
        foreach (var episode in DatasetGenerator.Generate(task with { }, split, count))
        {
            writer.WriteLine(EpisodeJson.ToLine(episode, split));
        }
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
