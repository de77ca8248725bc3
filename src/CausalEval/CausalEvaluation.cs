using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Models;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Templates;
using CausalEval.Runs;
using CausalEval.Core.Results;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval;

/// <summary>
/// Runs CausalEval from .NET code: the same run as <c>causaleval run</c> (the same run folder, trials, scores and
/// leaderboard), for any <see cref="Microsoft.Extensions.AI.IChatClient"/> as well as the tool's model ids.
/// </summary>
public static class CausalEvaluation
{
    /// <summary>
    /// Plays every trial of <paramref name="options"/> into a run folder and returns how it ended. Bad input (an unknown
    /// task, model id or prompt variant, a folder that is not empty, …) throws <see cref="Core.InputException"/> naming
    /// what is wrong, before any folder is created. Cancelling stops scheduling: trials in flight finish and are written,
    /// and the result's status is interrupted (finish it with <see cref="EvaluationOptions.ResumeDirectory"/>).
    /// </summary>
    public static async Task<EvaluationResult> RunAsync(EvaluationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var names = options.Models.Select(m => m.Name).ToList();
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new Core.InputException("Models", twice.Key, "two models have this name; give each its own");
        }
        var request = new RunRequest
        {
            Tasks = options.Tasks,
            Models = names,
            DefaultModels = [.. BuiltinAgents.All.Keys.Select(k => $"{BuiltinAgents.Prefix}/{k}")],
            Episodes = options.Episodes,
            Epochs = options.Epochs,
            Seed = options.Seed,
            Concurrency = options.Concurrency,
            Output = options.OutputDirectory,
            Resume = options.ResumeDirectory,
            Datasets = options.DatasetsDirectory,
            Split = options.Split,
            Prompts = options.Prompts,
            Naming = options.Naming,
            MaxCost = options.MaxCostUsd,
            PricesFile = options.PricesFile,
            CacheDirectory = options.CacheDirectory,
            NoCache = !options.UseResponseCache,
            Observer = options.ScoreWithIdealObserver,
            CommandLine = ["CausalEvaluation.RunAsync", .. names.Select(n => "--model=" + n)],
            ToolVersion = BuildInfo.Version,
            GitRevision = BuildInfo.GitRevision,
        };
        var time = options.TimeProvider ?? TimeProvider.System;
        var log = options.Log ?? (_ => { });
        using var run = EvaluationRun.Prepare(request, calls => Catalog(options.Models, calls, time), time, log);
        var result = await run.RunAsync(options.Progress, cancellationToken).ConfigureAwait(false);
        var manifest = result.Manifest;
        return new EvaluationResult
        {
            RunDirectory = result.Directory,
            Status = result.Status,
            Leaderboard = [.. result.Leaderboard.ByTask().Select(r => new LeaderboardEntry(r.Model, r.PromptVariant, r.Task!, r.Trials, r.Normalized, r.OptimalActionRate, r.Regret)
            {
                Errors = r.Errors,
                Coverage = r.Coverage,
                InvalidRate = r.InvalidRate,
            })],
            TrialsPlanned = manifest.TrialsPlanned,
            TrialsWritten = manifest.TrialsWritten,
            TrialErrors = manifest.TrialErrors,
            CostUsd = manifest.CostUsd,
            LeaderboardMarkdown = result.LeaderboardMarkdown,
        };
    }

    /// <summary>The built-in agents and chat providers, plus the caller's own chat clients, all through the run's call machinery.</summary>
    private static ModelCatalog Catalog(IReadOnlyList<EvaluatedModel> models, ModelCalls calls, TimeProvider time)
    {
        Func<LlmAgentSetup> setup = () => LlmAgentSetup.Create(PromptLibrary.Locate()) with { Time = time };
        var named = models.Where(m => m.ChatClient is not null).Select(m => ChatModels.Named(m.Name, m.ChatClient!, setup, calls.Configure, time));
        return new ModelCatalog([new BuiltinModelProvider(), .. ChatModels.Providers(ProviderEnvironment.Process, setup, calls.Configure, time)], named);
    }
}
