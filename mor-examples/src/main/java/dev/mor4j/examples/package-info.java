package dev.mor4j.examples;
