#!/usr/bin/env bash
# Kafka broker jars from Maven Central into $SLUICE_CACHE/kafka-<version>/libs.
# KAFKA_VERSION selects the broker (3.9.x default; 4.x for the newer protocol floor).
source "$(dirname "$0")/lib.sh"
KAFKA_VERSION="${1:-${KAFKA_VERSION:-3.9.1}}"
dest="$SLUICE_CACHE/kafka-$KAFKA_VERSION/libs"
if [[ -f "$dest/.complete" ]]; then log "kafka $KAFKA_VERSION jars present"; exit 0; fi
log "collecting kafka $KAFKA_VERSION jars with maven"
mkdir -p "$dest"
profile=kafka3; [[ "$KAFKA_VERSION" == 3.* ]] || profile=kafka4
mvn -B -q -f "$(dirname "$0")/kafka/pom.xml" -P"$profile" -Dkafka.version="$KAFKA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest"
touch "$dest/.complete"
