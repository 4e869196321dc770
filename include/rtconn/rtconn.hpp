#pragma once
/// \file
/// Everything rtconn offers applications.

#include "rtconn/certificate_id.hpp"
#include "rtconn/certificate_store.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "rtconn/connection_pool.hpp"
#include "rtconn/connection_reference.hpp"
#include "rtconn/development_certificates.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/event.hpp"
#include "rtconn/incoming_request.hpp"
#include "rtconn/ip_endpoint.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_connection.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"
#include "rtconn/real_time_server_tls_connection_manager.hpp"
#include "rtconn/sip_message.hpp"
#include "rtconn/sip_uri.hpp"
#include "rtconn/tls_failure.hpp"
#include "rtconn/transport_type.hpp"
