package dev.mor4j.examples;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.Message;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.LlamaFineTune;
import java.nio.file.Path;
import java.util.List;

/** Load a model, add MoR, train it on your own conversations, save the adapter (PEFT layout). */
public final class ReadmeExample {

    public static void main(String[] args) {
        LlamaModel model = LlamaModel.load(Path.of(args[0]));    // a Hugging Face LLaMA directory
        Tokenizer tokenizer = Tokenizer.load(Path.of(args[1]));  // a directory with tokenizer.json

        // Your data, as chat turns; only the assistant's answers are learned.
        List<Conversation> chats = List.of(
                new Conversation("1", "mine", List.of(
                        new Message(Role.USER, "What does MoR stand for?"),
                        new Message(Role.ASSISTANT, "Mixture of Ranks: experts that share one LoRA pair."))),
                new Conversation("2", "mine", List.of(
                        new Message(Role.USER, "Name a prime number."),
                        new Message(Role.ASSISTANT, "Seven."))));
        TuluEncoder encoder = new TuluEncoder(tokenizer, 512);
        List<EncodedExample> examples = chats.stream().map(encoder::encode).toList();

        // MoR with the paper's settings, every option named (these are also the builder's defaults).
        AdapterConfig config = AdapterConfig.mor().experts(8).rank(8).alpha(32).dropout(0.05)
                .targetModules("gate_proj", "up_proj", "down_proj").build();
        LlamaAdapters mor = LlamaAdapters.create(model.weights(), config, 42);
        LlamaFineTune.builder(model, mor, examples)
                .trainConfig(TrainConfig.builder().learningRate(2e-4).maxSteps(10).build())
                .build()
                .train();

        mor.save(Path.of(args[2]), args[0]);  // adapter_config.json + adapter_model.safetensors
    }
}
