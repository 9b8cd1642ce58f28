package dev.mor4j.bench;
