namespace CausalEval.Baseline;

/// <summary>
/// What a seed study maximises, on validation splits only. The imitation baseline is a test of generalisation, so its
/// score is the mean validation normalized score of the two generalisation tasks; the observational control is judged
/// on observational evidence, so its score is the validation normalized score of passive-exploit-observational.
/// </summary>
internal static class SeedSelection
{
    public const string HeldoutLinkTask = "explore-exploit-heldout-link";
    public const string HeldoutSubsetTask = "explore-exploit-heldout-subset";
    public const string ObservationalTask = "passive-exploit-observational";

    public static IReadOnlyList<string> Tasks(DataCondition condition) => condition == DataCondition.Interventional
        ? [HeldoutLinkTask, HeldoutSubsetTask]
        : [ObservationalTask];

    /// <summary>
    /// The tasks a recipe is judged on; an odd-one-out recipe on its own task's validation split (deconfounded for
    /// odd-one-out-confounded: where the shortcut stops working).
    /// </summary>
    public static IReadOnlyList<string> Tasks(TrainingOptions options, bool oddOneOut) => oddOneOut ? options.Tasks : Tasks(options.Data);

    public static double Score(IReadOnlyList<TaskScores> validation, DataCondition condition) => Score(validation, Tasks(condition));

    public static double Score(IReadOnlyList<TaskScores> validation, IReadOnlyList<string> tasks)
    {
        var scored = tasks.Select(t => validation.FirstOrDefault(s => s.Task == t)).OfType<TaskScores>().ToList();
        return scored.Count > 0 ? Math.Round(scored.Average(s => s.Normalized), 4) : double.NaN;
    }

    public static string Description(DataCondition condition) => Description(Tasks(condition));

    public static string Description(IReadOnlyList<string> tasks) => $"mean validation normalized score of {string.Join(" and ", tasks)}";
}
