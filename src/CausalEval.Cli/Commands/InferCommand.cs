using System.CommandLine;
using CausalEval.Core.Inference;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval infer EVIDENCE.json</c>: the ideal observer (DESIGN §1.6) as JSON on stdout.</summary>
internal static class InferCommand
{
    public static Command Create(CliConsole console)
    {
        var evidence = new Argument<string>("evidence") { Description = "Evidence file (JSON): the family, allowed values, an optional target and the samples" };
        var threads = new Option<int>("--threads") { Description = "Cores to use (the answer does not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("infer", "Exact Bayesian inference over the world family: posterior exploit values and the information of each experiment") { evidence, threads };
        command.SetAction(parse =>
        {
            var file = EvidenceFile.Load(parse.GetValue(evidence)!);
            var posterior = IdealObserver.Infer(file.Model, file.Samples, Math.Max(1, parse.GetValue(threads)));
            console.Out.WriteLine(EvidenceFile.ToJson(file, posterior));
            return CliApp.Ok;
        });
        return command;
    }
}
