package dev.mor4j.llama;
