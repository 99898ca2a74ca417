"""The far ends of the publish sinks, on loopback ports.

`mqtt_broker` runs an MQTT broker (amqtt) with password auth and a relay that can lose an
acknowledgement; `receivers` has a Streamr node's HTTP plugin and a webhook receiver.
"""
