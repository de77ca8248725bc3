using System.CommandLine;
using CausalEval.Runs;
using CausalEval.Baseline;
using CausalEval.Core.Agents;
using CausalEval.Models;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Templates;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval models</c>: the model ids this build can run, and the settings each provider needs.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("models", "List providers, model-id syntax and the environment variables each needs");
        command.SetAction(_ =>
        {
            console.Out.WriteLine("builtin/<name> — reference agents, offline, no settings needed:");
            foreach (var (name, entry) in BuiltinAgents.All)
            {
                console.Out.WriteLine($"  builtin/{name,-18} {entry.Description}");
            }
            console.Out.WriteLine();
            console.Out.WriteLine("torch/<name-or-path> — the TorchSharp imitation baseline, offline, no settings needed:");
            console.Out.WriteLine($"  {TorchModelProvider.DefaultModelId,-26} the committed checkpoint (models/torch/default, copied next to the executable)");
            console.Out.WriteLine($"  {"torch/ooo-explanations",-26} odd-one-out only: the explanation baseline (imitation + the auxiliary explanation loss)");
            console.Out.WriteLine($"  {"torch/ooo-no-explanations",-26} odd-one-out only: the same recipe without the explanation loss");
            console.Out.WriteLine($"  {"torch/<name>",-26} a checkpoint folder named <name> under ${TorchModelProvider.EnvironmentVariable}, ./models/torch or next to the executable");
            console.Out.WriteLine($"  {"torch/<path>",-26} a checkpoint folder (model.bin + model.json) made by `causaleval baseline train`");
            WriteChatProviders(console.Out, ProviderEnvironment.Process);
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>The chat-model providers: id syntax, and each environment variable with whether it is set — never its value.</summary>
    internal static void WriteChatProviders(TextWriter output, ProviderEnvironment environment)
    {
        output.WriteLine();
        output.WriteLine("Chat models (LLM agents; played once per --prompt variant, names shown per --names):");
        foreach (var provider in ChatProviders.All)
        {
            output.WriteLine();
            output.WriteLine($"  {provider.Syntax} — {provider.Description}");
            output.WriteLine($"    e.g. {provider.Example}");
            foreach (var variable in provider.Environment)
            {
                var state = environment.Get(variable.Name) is null ? "not set" : "set";
                output.WriteLine($"    {variable.Name,-26} {(variable.Required ? "required" : "optional"),-8} {state,-7}  {variable.Purpose}");
            }
        }
        output.WriteLine();
        output.WriteLine("  settings: append ?key=value&… to the id: temperature (default 0), max_tokens (default: the template's),");
        output.WriteLine("  seed (default: one per trial); the value none sends nothing. e.g. openai/gpt-4o-mini?temperature=0.2&max_tokens=512");
        output.WriteLine($"  prompt variants: {string.Join(", ", PromptLibrary.StandardVariants)} (default {PromptLibrary.DefaultVariant})");
    }

    /// <summary>Every provider; chat models get the run's middlewares (response cache, resilience, limits) from <paramref name="calls"/>.</summary>
    public static ModelCatalog Catalog(ModelCalls? calls = null) =>
        new([new BuiltinModelProvider(), new TorchModelProvider(), .. ChatModels.Providers(
            calls is null ? ProviderEnvironment.Process : ProviderEnvironment.Process with { MaxResponseBytes = calls.Policy.MaxResponseBytes, Batches = calls.Batches },
            () => LlmAgentSetup.Create(PromptLibrary.Locate()),
            calls is null ? null : calls.Configure)]);
}
